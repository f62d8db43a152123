// STUB — replaced by the standalone server.
console.error('not implemented');
process.exit(1);
