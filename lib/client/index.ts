export { connect } from './connect';
export { Connection } from './connection';
export { withConnection } from './with-connection';
