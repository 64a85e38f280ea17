// wrangler bundles `.wasm` imports as WebAssembly.Module (its default CompiledWasm rule); the Data
// modules of wrangler.toml's [[rules]] are declared by the generated worker-configuration.d.ts.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
