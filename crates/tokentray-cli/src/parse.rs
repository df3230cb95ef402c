//! The command line, parsed, with a short cut for the hot path.
//!
//! clap builds the whole command tree (every command, option and help text:
//! some 160 KB of allocations in 400-odd blocks, a tenth of a fresh
//! process's own work) before it looks at an argument. `tokentray token
//! PROFILE …`, what scripts run in loops, is first given to a parser that
//! knows that command alone, made of the same declarations: the
//! subcommand's own ([`cli::TokenArgs`]) and the one global option,
//! `--store`, declared like [`cli::Cli`]'s. Anything that parser does not
//! take as it is (`--help`, `--version`, a mistake, another command) goes
//! to the full parser, so help, versions and error messages never change.
//! The tests hold the two parsers to the same answers.

use crate::cli;
use clap::{Args, FromArgMatches, Parser};
use std::ffi::OsString;
use tokentray_core::vault::choice::STORE_ENV;
use tokentray_core::vault::StoreKind;

/// The command line of this process.
pub fn parse() -> cli::Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    token_only(&args).unwrap_or_else(|| cli::Cli::parse_from(args))
}

/// `args` parsed by the `token`-only parser; `None` when it is not a
/// `token` command line that parser takes as it is.
pub fn token_only(args: &[OsString]) -> Option<cli::Cli> {
    if args.get(1)? != "token" {
        return None;
    }
    let matches = token_command().try_get_matches_from(args).ok()?;
    cli::Cli::from_arg_matches(&matches).ok()
}

/// `tokentray token` and nothing else; no `--help` or `--version` (the
/// full parser answers those).
fn token_command() -> clap::Command {
    let token = clap::Command::new("token")
        .disable_help_flag(true)
        .disable_version_flag(true);
    clap::Command::new("tokentray")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .subcommand_required(true)
        .arg(store_arg())
        .subcommand(cli::TokenArgs::augment_args(token))
}

/// `--store`, as [`cli::Cli`] declares it (less its help text).
fn store_arg() -> clap::Arg {
    clap::Arg::new("store")
        .long("store")
        .global(true)
        .env(STORE_ENV)
        .value_name("STORE")
        .value_parser(clap::value_parser!(StoreKind))
        .default_value(StoreKind::default().as_str())
        .action(clap::ArgAction::Set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn argv(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    /// What the full parser makes of `line`, as its `Debug` text.
    fn full(line: &str) -> String {
        format!("{:?}", cli::Cli::try_parse_from(argv(line)).unwrap())
    }

    #[test]
    fn the_short_cut_agrees_with_the_full_parser() {
        for line in [
            "tokentray token bench",
            "tokentray token bench --format json",
            "tokentray token --format=header bench",
            "tokentray token bench --scope a --scope b --min-valid 600",
            "tokentray token bench --force-refresh --non-interactive",
            "tokentray token bench --store file",
            "tokentray token --store=memory bench",
            "tokentray token -- --odd-name",
        ] {
            let short = token_only(&argv(line)).unwrap_or_else(|| panic!("not taken: {line}"));
            assert_eq!(format!("{short:?}"), full(line), "{line}");
        }
    }

    #[test]
    fn everything_else_goes_to_the_full_parser() {
        for line in [
            "tokentray",
            "tokentray --store file token bench",
            "tokentray status",
            "tokentray profile list",
            "tokentray token",
            "tokentray token --help",
            "tokentray token bench -h",
            "tokentray token bench --version",
            "tokentray token bench -V",
            "tokentray token bench --format yaml",
            "tokentray token bench --store nowhere",
            "tokentray token bench other",
            "tokentray token bench --format json --format raw",
            "tokentray token bench --unknown",
            "tokentray exec bench -- env",
        ] {
            assert!(token_only(&argv(line)).is_none(), "taken: {line}");
        }
    }

    // The one option declared twice: same name, environment variable,
    // default, value and scope as the full parser's.
    #[test]
    fn the_store_option_is_the_clis() {
        let cli = cli::Cli::command();
        let theirs = cli.get_arguments().find(|a| a.get_id() == "store").unwrap();
        let ours = store_arg();
        assert_eq!(ours.get_long(), theirs.get_long());
        assert_eq!(ours.get_short(), theirs.get_short());
        assert_eq!(ours.get_env(), theirs.get_env());
        assert_eq!(ours.get_default_values(), theirs.get_default_values());
        assert_eq!(ours.get_value_names(), theirs.get_value_names());
        assert_eq!(ours.get_num_args(), theirs.get_num_args());
        assert_eq!(
            format!("{:?}", ours.get_action()),
            format!("{:?}", theirs.get_action())
        );
        assert_eq!(ours.is_global_set(), theirs.is_global_set());
        assert_eq!(ours.is_required_set(), theirs.is_required_set());
        // Only `token`'s own options and `--store` are known to the short
        // cut: a new global option of the CLI must be added here too.
        let globals: Vec<_> = cli
            .get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| a.get_id().to_string())
            .collect();
        assert_eq!(globals, ["store"]);
    }

    #[test]
    fn the_short_cut_is_a_valid_command() {
        token_command().debug_assert();
    }
}
