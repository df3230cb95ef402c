//! Property tests (S36, S27) of the agent's stream frame reader: any byte
//! stream, lines of any length, is cut into frames of at most `MAX_FRAME`
//! bytes that add up to what was sent, and an over-long line is reported
//! as such, never buffered whole and never a panic.

use proptest::prelude::*;
use tokio::io::BufReader;

use super::{read_frame, Frame, MAX_FRAME};

/// Lines of any bytes (newlines only between them), some far longer than
/// a frame, the last one with or without its newline.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        prop::collection::vec(
            any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
            0..200
        ),
        (0..3 * MAX_FRAME).prop_map(|len| vec![b'x'; len]),
    ];
    (prop::collection::vec(line, 0..6), any::<bool>()).prop_map(|(lines, last_newline)| {
        let mut bytes = lines.join(&b'\n');
        if last_newline && !bytes.is_empty() {
            bytes.push(b'\n');
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    // S27 S36: frames are bounded and add up to the stream
    #[test]
    fn frames_are_bounded_and_add_up_to_the_stream(input in stream()) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut reader = BufReader::new(input.as_slice());
        let mut frame = Vec::new();
        let mut read = Vec::new();
        loop {
            match runtime.block_on(read_frame(&mut reader, &mut frame)).unwrap() {
                Frame::Eof => {
                    prop_assert_eq!(&read, &input);
                    break;
                }
                Frame::Line => {
                    prop_assert!(frame.len() <= MAX_FRAME);
                    let newlines = frame.iter().filter(|b| **b == b'\n').count();
                    prop_assert!(newlines <= 1 && (newlines == 0 || frame.ends_with(b"\n")));
                    read.extend_from_slice(&frame);
                }
                Frame::TooLarge => {
                    // the server answers with an error and closes here
                    prop_assert_eq!(frame.len(), MAX_FRAME);
                    prop_assert!(!frame.contains(&b'\n'));
                    read.extend_from_slice(&frame);
                    prop_assert!(input.starts_with(&read));
                    break;
                }
            }
        }
    }
}
