//! The consent dialog's two commands, granted to its window only
//! (`capabilities/consent.json`): read the shown question, answer it by
//! its id. Local facts about the asking program go out; no token ever
//! does.

use std::sync::Arc;

use tauri::State;
use tokentray_core::access::Answer;

use super::queue::Questions;
use crate::dto::{ConsentChoice, ConsentView};
use crate::error::CommandError;

/// The question the dialog shows (`null`: none any more).
#[tauri::command]
pub async fn consent_question(
    questions: State<'_, Arc<Questions>>,
) -> Result<Option<ConsentView>, CommandError> {
    Ok(questions.view())
}

/// Answers the shown question `id`; an answer for any other question
/// (stale, or forged) is refused and changes nothing.
#[tauri::command]
pub async fn consent_answer(
    questions: State<'_, Arc<Questions>>,
    id: String,
    choice: ConsentChoice,
) -> Result<(), CommandError> {
    let answer = match choice {
        ConsentChoice::Deny => Answer::Deny,
        ConsentChoice::Once => Answer::Once,
        ConsentChoice::ForHours => Answer::ForHours,
        ConsentChoice::Always => Answer::Always,
    };
    if questions.answer(&id, answer) {
        Ok(())
    } else {
        Err(CommandError::new(
            "stale_question",
            "this question is no longer asked",
        ))
    }
}
