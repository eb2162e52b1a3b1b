export * from './connection-config';
