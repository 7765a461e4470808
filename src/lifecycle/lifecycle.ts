/**
 * The process's one piece of shared state about its own life: whether it is
 * shutting down. Readiness reads it so a load balancer stops sending traffic
 * before the listener closes.
 *
 * @example
 * const lifecycle = createLifecycle();
 * lifecycle.beginShutdown();
 * lifecycle.isShuttingDown(); // true
 */
export interface Lifecycle {
  isShuttingDown(): boolean;
  beginShutdown(): void;
}

export function createLifecycle(): Lifecycle {
  let shuttingDown = false;
  return {
    isShuttingDown: function isShuttingDown() {
      return shuttingDown;
    },
    beginShutdown: function beginShutdown() {
      shuttingDown = true;
    },
  };
}
