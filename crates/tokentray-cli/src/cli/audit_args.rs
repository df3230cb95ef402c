//! `audit`: the agent's trail of who took which token.

use clap::Args;

pub(super) const AUDIT_EXAMPLES: &str = "Examples:
  tokentray audit                        # everything kept (a few MB at most)
  tokentray audit --profile graph --since 1h
  tokentray audit --since 2d --json | jq '.[] | .program'

The agent (the tray app or `tokentray agent`) appends one line per token it
hands out and per sign-out it runs: when, profile, account, scopes, the
program that asked (read from the OS, with its parents), its pid, and what
allowed it. Never a token. The file is $TOKENTRAY_AUDIT_LOG, else
audit.jsonl in the state directory (~/.local/state/tokentray/ on Linux).";

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this profile's entries.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Only entries this recent: a number and a unit, `s`, `m`, `h` or `d`
    /// (`90s`, `30m`, `1h`, `2d`).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub since: Option<u64>,
    /// Print a JSON array of the entries.
    #[arg(long)]
    pub json: bool,
}

/// `30m` → 1800 (seconds).
pub(super) fn parse_age(text: &str) -> Result<u64, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not an age like 90s, 30m, 1h or 2d"))?;
    let unit = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: the unit is s, m, h or d")),
    };
    number
        .checked_mul(unit)
        .ok_or_else(|| format!("`{text}` is too long ago"))
}

#[cfg(test)]
mod tests {
    use super::parse_age;

    #[test]
    fn ages_are_read_in_their_units() {
        assert_eq!(parse_age("90s"), Ok(90));
        assert_eq!(parse_age("30m"), Ok(1800));
        assert_eq!(parse_age("30"), Ok(1800));
        assert_eq!(parse_age("1h"), Ok(3600));
        assert_eq!(parse_age("2d"), Ok(172_800));
        assert!(parse_age("1w").is_err());
        assert!(parse_age("h").is_err());
        assert!(parse_age("99999999999999999999d").is_err());
    }
}
