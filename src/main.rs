//! The `cccwatch` command line. Parses flags into settings and hands over to
//! the library; nothing below `cli` knows about clap.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
