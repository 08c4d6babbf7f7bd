// `node -r @rexec/child_process/register app.js` (or NODE_OPTIONS=--require
// @rexec/child_process/register): the whole program's `child_process` is
// @rexec/child_process, its children on REXEC_SERVER. See lib/register.js.
'use strict';

require('./lib/register').install();
