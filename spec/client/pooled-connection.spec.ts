// The list of a pooled connection's current users, threaded through the users themselves.
import { HolderList, type Holder } from '../../lib/client/pooled-connection';

function holder(name: string, revoked: string[]): Holder & { readonly name: string } {
  return { name, previousHolder: undefined, nextHolder: undefined, revoke: () => revoked.push(name) };
}

describe('HolderList', () => {
  it('adds, deletes from the front, middle and back, and drains what is left, unlinking every holder', () => {
    const revoked: string[] = [];
    const list = new HolderList();
    const [a, b, c, d] = [holder('a', revoked), holder('b', revoked), holder('c', revoked), holder('d', revoked)];
    for (const h of [a, b, c, d]) list.add(h);
    list.delete(c); // middle
    list.delete(d); // front (the latest added)
    list.delete(a); // back
    const left = list.drain();
    expect(left).toEqual([b]);
    expect([a, b, c, d].every((h) => h.previousHolder === undefined && h.nextHolder === undefined)).toBe(true);
    expect(list.drain()).toEqual([]);
    // A holder revoked after the drain leaves the list alone when it deletes itself.
    for (const h of left) {
      h.revoke(new Error('ended'));
      list.delete(h);
    }
    expect(revoked).toEqual(['b']);
    list.add(a);
    expect(list.drain()).toEqual([a]);
  });
});
