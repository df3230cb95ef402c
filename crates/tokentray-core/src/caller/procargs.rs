//! The layout of macOS's `sysctl(KERN_PROCARGS2)` answer, on plain bytes so
//! it is tested on every platform: `argc` (a native `int`), the executable
//! path, NUL padding, then `argc` NUL-terminated arguments, then the
//! environment (never read).

use super::args_of;

/// The arguments in a `KERN_PROCARGS2` buffer; `None` when it is not one.
pub(super) fn arguments(raw: &[u8]) -> Option<Vec<String>> {
    let argc = i32::from_ne_bytes(raw.get(..4)?.try_into().ok()?);
    let argc = usize::try_from(argc).ok()?;
    let rest = raw.get(4..)?;
    let path_end = rest.iter().position(|&b| b == 0)?;
    let padding = rest.get(path_end..)?.iter().position(|&b| b != 0)?;
    Some(args_of(rest.get(path_end + padding..)?, argc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(argc: i32, strings: &[u8]) -> Vec<u8> {
        argc.to_ne_bytes().iter().chain(strings).copied().collect()
    }

    #[test]
    fn the_arguments_are_read_and_the_environment_is_not() {
        let raw = buffer(
            3,
            b"/usr/bin/python3\0\0\0\0python3\0-u\0/Users/a/sync.py\0HOME=/Users/a\0TOKEN=x\0",
        );
        assert_eq!(
            arguments(&raw).unwrap(),
            ["python3", "-u", "/Users/a/sync.py"]
        );
        let raw = buffer(1, b"/bin/zsh\0zsh\0SECRET=1\0");
        assert_eq!(arguments(&raw).unwrap(), ["zsh"]);
    }

    #[test]
    fn what_is_no_such_buffer_is_none() {
        assert_eq!(arguments(b""), None);
        assert_eq!(arguments(&buffer(-1, b"/bin/sh\0sh\0")), None);
        assert_eq!(arguments(&buffer(1, b"/bin/sh-with-no-nul")), None);
        assert_eq!(arguments(&buffer(1, b"/bin/sh\0\0\0")), None);
    }
}
