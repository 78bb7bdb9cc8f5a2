import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A "PostgreSQL" that accepts connections and never answers: what a cut network or a stalled
 * server looks like to the pool. Returns its connection string; `cleanup` gets what closes it.
 */
export async function startBlackHoleDatabase(cleanup: (close: () => Promise<unknown>) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const hole = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
  cleanup(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => hole.close(resolve));
  });
  const { port } = hole.address() as AddressInfo;
  return `postgres://u:p@127.0.0.1:${port}/db`;
}
