#!/usr/bin/env node
// node scripts/size-floor.mjs: the floor under the size budget (README "Size"). Builds the
// smallest useful Rust/wasm module with fetchlane's toolchain and flags: a `no_std`
// concurrency limit over `fetch` with a queue, one exported class, talc, wasm-bindgen
// --target web, wasm-opt -Oz, the glue minified; then prints its gzip -9 sizes. The crate is
// written to target/size-floor (outside the workspace) on each run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { transformSync } from 'esbuild';
import { root } from './server.mjs';
import { wasmOpt } from './wasm-opt.mjs';

const dir = join(root, 'target/size-floor');
mkdirSync(join(dir, 'src'), { recursive: true });
const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const pinned = (name) => cargo.match(new RegExp(`^${name} = (.*)$`, 'm'))?.[1] ?? '"*"';
const version = (spec) => spec.match(/"([^"]+)"/)[1];
writeFileSync(
  join(dir, 'Cargo.toml'),
  `[package]
name = "size-floor"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[workspace]

[dependencies]
wasm-bindgen = { version = "${version(pinned('wasm-bindgen'))}", default-features = false }
wasm-bindgen-futures = { version = "${version(pinned('wasm-bindgen-futures'))}", default-features = false }
js-sys = { version = "${version(pinned('js-sys'))}", default-features = false }
talc = { version = "${version(pinned('talc'))}", default-features = false }

[profile.release]
opt-level = "z"
lto = true
codegen-units = 1
panic = "abort"
`,
);
writeFileSync(
  join(dir, 'src/lib.rs'),
  `//! A concurrency limit over fetch: p-limit plus fetch, in Rust.
#![no_std]
extern crate alloc;
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &JsValue) -> js_sys::Promise;
}

struct State { limit: usize, running: usize, queue: VecDeque<js_sys::Function> }

#[wasm_bindgen]
pub struct Limit { state: Rc<RefCell<State>> }

#[wasm_bindgen]
impl Limit {
    #[wasm_bindgen(constructor)]
    pub fn new(limit: f64) -> Result<Limit, JsError> {
        if !(limit >= 1.0) { return Err(JsError::new("limit must be a positive integer")); }
        Ok(Limit { state: Rc::new(RefCell::new(State { limit: limit as usize, running: 0, queue: VecDeque::new() })) })
    }

    pub fn fetch(&self, input: JsValue) -> js_sys::Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let wait = {
                let mut s = state.borrow_mut();
                if s.running < s.limit {
                    s.running += 1;
                    None
                } else {
                    let mut resolve = None;
                    let p = js_sys::Promise::new(&mut |r, _| resolve = Some(r));
                    if let Some(r) = resolve { s.queue.push_back(r); }
                    Some(p)
                }
            };
            if let Some(p) = wait { JsFuture::from(p).await?; }
            let result = JsFuture::from(global_fetch(&input)).await;
            let next = {
                let mut s = state.borrow_mut();
                let next = s.queue.pop_front();
                if next.is_none() { s.running -= 1; }
                next
            };
            if let Some(f) = next { let _ = f.call0(&JsValue::NULL); }
            result
        })
    }
}
`,
);

const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown']);
const out = join(dir, 'pkg');
run('wasm-bindgen', ['--target', 'web', '--out-dir', out, '--out-name', 'floor', join(dir, 'target/wasm32-unknown-unknown/release/size_floor.wasm')]);
const wasm = join(out, 'floor_bg.wasm');
wasmOpt(wasm, wasm, ['--strip-producers', '--strip-target-features']);
const glue = transformSync(readFileSync(join(out, 'floor.js'), 'utf8'), { minify: true, format: 'esm' }).code;

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const w = gz(readFileSync(wasm));
const g = gz(Buffer.from(glue));
console.log(`floor: wasm ${kib(w)} + minified glue ${kib(g)} = ${kib(w + g)} (gzip -9)`);
