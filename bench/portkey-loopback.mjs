// Preloaded into Portkey's gateway by bench/gateway.sh (node --import):
// @hono/node-server listens on every interface, so every listen() of the
// process is bound to 127.0.0.1 instead.  A bench never opens a port to
// the network.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
	const cb = args.find((a) => typeof a === 'function');
	if (args[0] !== null && typeof args[0] === 'object')
		return listen.call(this, { ...args[0], host: '127.0.0.1' }, cb);
	return listen.call(this, { port: Number(args[0]) || 0, host: '127.0.0.1' }, cb);
};
