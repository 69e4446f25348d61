// Run the tfjs wasm backend's multi-threaded SIMD binary in Node.
//
// Why this exists: tfjs 4.22 ships `tfjs-backend-wasm-threaded-simd.wasm` (XNNPACK with a pthreadpool: matmuls
// split across cores) but never uses it in Node (WASM_HAS_MULTITHREAD_SUPPORT is hard-wired false there, tfjs
// issue #3830). Three things stand in the way, and this module works around each one for the duration of
// `tf.setBackend("wasm")`:
//   1. the flag: set it to true;
//   2. Emscripten starts its pthread workers from a `blob:` URL holding the browser worker script, which Node's
//      worker_threads cannot load: `worker_threads.Worker` is wrapped so that such a worker runs the Node script
//      below instead, which loads the same Emscripten glue (`wasm-out/tfjs-backend-wasm-threaded-simd.js`) with
//      `require` rather than `importScripts(blob)`;
//   3. the C++ side caps the pool at `navigator.hardwareConcurrency / 2` (it assumes hyper-threads), i.e. one
//      thread on a 2-vCPU machine: `os.cpus()` reports twice the CPUs while the module starts, so that the cap
//      becomes the real CPU count and `setThreadsCount(n)` decides.
// Only XNNPACK operators (matmul, some element-wise ops) use the threads; tune's JS kernels stay on the main thread.

import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";

const require = createRequire(import.meta.url);

/** The worker script: Emscripten's pthread worker protocol, loading the glue with require(). */
function workerSource(gluePath: string): string {
  return `"use strict";
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
let Module = {};
let initializedJS = false;
let pendingQueues = [];
const post = (m) => parentPort.postMessage(m);
Object.assign(globalThis, { self: globalThis, location: { href: ${JSON.stringify(gluePath)} }, postMessage: post,
  importScripts: () => { throw new Error("importScripts is not available in tune's wasm worker"); } });
globalThis.startWorker = (instance) => { Module = instance; post({ cmd: "loaded" }); };
function onmessage(e) {
  const d = e.data;
  try {
    if (d.cmd === "load") {
      Module.wasmModule = d.wasmModule;
      for (const h of d.handlers) Module[h] = (...args) => post({ cmd: "callHandler", handler: h, args });
      Module.wasmMemory = d.wasmMemory;
      Module.buffer = d.wasmMemory.buffer;
      Module.ENVIRONMENT_IS_PTHREAD = true;
      Module.instantiateWasm = (info, receive) => {
        const inst = new WebAssembly.Instance(Module.wasmModule, info);
        receive(inst);
        Module.wasmModule = null;
        return inst.exports;
      };
      require(${JSON.stringify(gluePath)})(Module);
    } else if (d.cmd === "run") {
      Module.__emscripten_thread_init(d.pthread_ptr, 0, 0, 1);
      Module.establishStackSpace();
      Module.PThread.receiveObjectTransfer(d);
      Module.PThread.threadInitTLS();
      if (!initializedJS) {
        for (const q of pendingQueues) Module.executeNotifiedProxyingQueue(q);
        pendingQueues = [];
        initializedJS = true;
      }
      try {
        Module.invokeEntryPoint(d.start_routine, d.arg);
      } catch (ex) {
        if (ex === "unwind") return;
        if (!(ex instanceof Module.ExitStatus)) throw ex;
        if (!Module.keepRuntimeAlive()) Module.__emscripten_thread_exit(ex.status);
      }
    } else if (d.cmd === "cancel") {
      if (Module._pthread_self()) Module.__emscripten_thread_exit(-1);
    } else if (d.cmd === "processProxyingQueue") {
      if (initializedJS) Module.executeNotifiedProxyingQueue(d.queue);
      else pendingQueues.push(d.queue);
    } else if (d.cmd && d.target !== "setimmediate") {
      fs.writeSync(2, "tune wasm worker: unknown command " + d.cmd + "\\n");
    }
  } catch (ex) {
    if (Module.__emscripten_thread_crashed) Module.__emscripten_thread_crashed();
    throw ex;
  }
}
globalThis.onmessage = onmessage;
parentPort.on("message", (data) => onmessage({ data }));
`;
}

type WorkerCtor = new (file: string | URL, options?: object) => object;

interface PThreadPool {
  runningWorkers: { unref(): void }[];
  unusedWorkers: { unref(): void }[];
}

/**
 * The pool's threads wait for work forever and Emscripten keeps a worker running a thread referenced, which
 * would keep Node from exiting after the last task: let the process exit without waiting for them.
 */
function unrefWorkers(): void {
  const pool = (tf.backend() as unknown as { wasm: { PThread?: PThreadPool } }).wasm.PThread;
  if (!pool) return;
  for (const w of [...pool.runningWorkers, ...pool.unusedWorkers]) w.unref();
}

/**
 * `tf.setBackend("wasm")` with the threaded SIMD binary and `threads` XNNPACK threads (≥ 2). Call before the
 * wasm backend was ever initialised in this process. Returns false (and leaves tfjs as it was) when the
 * threaded module did not start; the caller then initialises the single-threaded one.
 */
export async function setThreadedWasmBackend(threads: number): Promise<boolean> {
  const workerThreads = require("node:worker_threads") as { Worker: WorkerCtor };
  const os = require("node:os") as { cpus: () => unknown[] };
  const gluePath = require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js");
  const source = workerSource(gluePath);
  const OriginalWorker = workerThreads.Worker;
  const cpus = os.cpus;
  class NodeWasmWorker extends OriginalWorker {
    constructor(file: string | URL, options?: object) {
      if (String(file).startsWith("blob:")) super(source, { eval: true });
      else super(file, options);
    }
  }
  workerThreads.Worker = NodeWasmWorker;
  os.cpus = () => [...cpus.call(os), ...cpus.call(os)];
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  tfWasm.setThreadsCount(threads);
  try {
    const ok = await tf.setBackend("wasm");
    if (!ok || tf.getBackend() !== "wasm" || tfWasm.getThreadsCount() < 2) return false;
    unrefWorkers();
    return true;
  } catch {
    return false;
  } finally {
    workerThreads.Worker = OriginalWorker;
    os.cpus = cpus;
  }
}
