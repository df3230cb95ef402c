//! What naming a caller costs the agent, per connection:
//! - `caller/peer_process`: the peer's own process read from the OS, the
//!   part paid before the answer is sent;
//! - `caller/of_this_process`: the whole chain of this bench (cargo, a
//!   shell and whatever started them) and the requesting program picked,
//!   most of it paid after the answer is sent.
//!
//! ```sh
//! cargo bench -p tokentray-core --bench caller
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use tokentray_core::caller::{Caller, PeerProcess};

fn caller(c: &mut Criterion) {
    let pid = std::process::id();
    println!("chain: {}", Caller::of_pid(pid));
    c.bench_function("caller/peer_process", |b| {
        b.iter(|| PeerProcess::read(pid));
    });
    c.bench_function("caller/of_this_process", |b| {
        b.iter(|| Caller::of_pid(pid).to_string());
    });
}

criterion_group!(benches, caller);
criterion_main!(benches);
