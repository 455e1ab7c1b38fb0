//! The `cccwatch` command line. Parses flags into settings and hands over to
//! the library; nothing below `cli` knows about clap.

mod cli;

/// mimalloc: HTML parsing allocates many small nodes; glibc's allocator
/// spent a sixth of a crawl's CPU time and fragments across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
