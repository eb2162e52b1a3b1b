// `npm run demo` as a spec: examples/demo.ts against the test server, its labelled output
// checked for what each section claims the server saw.
import { main } from '../../examples/demo';
import { superuserConfig } from '../helpers/test-servers';

describe('the demo', () => {
  it('shows a cancelled query leaving the server, the server waiting on a slow consumer, an aborted COPY committing nothing and a notification', async () => {
    const lines: string[] = [];
    const { host, port, user, database } = superuserConfig();
    await main({ host, port, user, database }, (line) => lines.push(line));
    const output = lines.join('\n');
    expect(output).toMatch(/Jupiter\s+95 moons/);
    expect(output).toMatch(/while subscribed: backend is active, waiting on PgSleep/);
    expect(output).toMatch(/\d+ ms after unsubscribe: backend is idle/);
    expect(output).toMatch(/meanwhile the backend was active, waiting on ClientWrite/);
    expect(output).toMatch(/then all 20000 rows arrived/);
    expect(output).toMatch(/copied 100000 rows/);
    expect(output).toMatch(/second COPY aborted: asteroid 50000 is malformed; the table still has 100004 rows/);
    expect(output).toMatch(/"hello from another connection" from backend \d+ on "demo channel"/);
    expect(output).toMatch(/state after close\(\): closed/);
  });
});
