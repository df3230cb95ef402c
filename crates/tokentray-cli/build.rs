//! How the `tokentray` programs (the front and `tokentray-cli`) link, for their start-up: a script calls
//! `tokentray token` once per token, so what the dynamic loader does before
//! `main` is paid on every call.
//!
//! Release builds for x86_64 Linux (glibc) link GCC's unwinder statically
//! (`libgcc_eh.a`, what `gcc -static-libgcc` does) instead of loading
//! `libgcc_s.so.1`: one shared library fewer to map and relocate, and no
//! run of its constructor, which asks the CPU for its features with a dozen
//! `cpuid` instructions — each one a trap to the hypervisor in a VM (about
//! 7 µs apiece on the machine the bench ran on). Panics, `catch_unwind` and
//! backtraces work as before; the binary still needs only libc and libm.
//!
//! Only where it is safe to do: the release profile (its LTO puts every
//! reference to the unwinder in the objects ahead of the libraries, so GNU
//! ld and lld alike take all of it from the archive, never half of it from
//! `libgcc_s`), a native build (the host's compiler names the archive), and
//! only when that compiler has one; otherwise the binary links as before.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let native_x86_64_gnu =
        var("TARGET") == "x86_64-unknown-linux-gnu" && var("HOST") == var("TARGET");
    if !native_x86_64_gnu || var("PROFILE") != "release" {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let Ok(output) = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
    else {
        return;
    };
    let archive = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    // Without the archive the compiler prints the bare name back.
    let Some(dir) = archive
        .is_absolute()
        .then(|| archive.parent())
        .flatten()
        .filter(|_| archive.is_file())
    else {
        return;
    };
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=static=gcc_eh");
}
