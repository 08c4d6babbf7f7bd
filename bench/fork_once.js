// The child of the Fork benchmark: sends one message and exits.
process.send({ok: 1}, () => process.exit(0));
