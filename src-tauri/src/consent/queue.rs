//! The questions waiting for the user, oldest first. The dialog shows the
//! first one only; an answer counts only when it names the shown
//! question's id (128 random bits, new for each question), so a stale
//! answer (the question timed out or its program went away while the
//! user clicked) or a forged one for a question still queued does
//! nothing. Every change of the shown question is published on a
//! `watch` channel, which the dialog window follows.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokentray_core::access::{Answer, Question};
use tokio::sync::{oneshot, watch};

use crate::dto::ConsentView;

/// The shown question, as the window needs it: its id and its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub id: String,
    pub title: String,
}

struct Pending {
    id: String,
    question: Question,
    /// The program's icon, as a `data:` URL ([`super::icon`]).
    icon: Option<String>,
    deadline: Instant,
    reply: oneshot::Sender<Answer>,
}

/// The queue, and the channel that says which question is shown.
pub struct Questions {
    queue: Mutex<VecDeque<Pending>>,
    shown: watch::Sender<Option<Shown>>,
}

impl Default for Questions {
    fn default() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            shown: watch::Sender::new(None),
        }
    }
}

impl Questions {
    /// Asks `question` and waits for its answer: "timed out" after
    /// `timeout`. Dropping the future takes the question back (the dialog
    /// moves on to the next one, or closes).
    pub async fn ask(
        &self,
        question: &Question,
        icon: Option<String>,
        timeout: Duration,
    ) -> Answer {
        let (reply, answer) = oneshot::channel();
        let id = format!("{:032x}", rand::random::<u128>());
        self.change(|queue| {
            queue.push_back(Pending {
                id: id.clone(),
                question: question.clone(),
                icon,
                deadline: Instant::now() + timeout,
                reply,
            })
        });
        let _asked = TakeBack {
            questions: self,
            id,
        };
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(answer)) => answer,
            // the reply is only ever dropped unsent with its question (by
            // `TakeBack`): refuse, whatever happened
            Ok(Err(_)) => Answer::Deny,
            Err(_) => Answer::TimedOut,
        }
    }

    /// Answers the shown question when `id` is its id; `false` (nothing
    /// happens) for any other id.
    pub fn answer(&self, id: &str, answer: Answer) -> bool {
        let pending = self.change(|queue| {
            if queue.front().is_some_and(|p| p.id == id) {
                queue.pop_front()
            } else {
                None
            }
        });
        let Some(pending) = pending else {
            tracing::debug!("an answer for a question that is not shown was ignored");
            return false;
        };
        tracing::info!(
            profile = %pending.question.profile,
            program = %pending.question.name,
            ?answer,
            "the user answered"
        );
        // the asking side may have given up at the same instant
        let _ = pending.reply.send(answer);
        true
    }

    /// "Deny" for the shown question (its window was closed).
    pub fn deny_shown(&self) {
        // the channel's read lock ends here, before `answer` sends on it
        let shown = self.shown.borrow().as_ref().map(|s| s.id.clone());
        if let Some(id) = shown {
            self.answer(&id, Answer::Deny);
        }
    }

    /// The shown question, as the dialog shows it.
    pub fn view(&self) -> Option<ConsentView> {
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let pending = queue.front()?;
        let left = pending.deadline.saturating_duration_since(Instant::now());
        Some(view(pending, left, queue.len() - 1))
    }

    /// Which question is shown, now and from now on.
    pub fn subscribe(&self) -> watch::Receiver<Option<Shown>> {
        self.shown.subscribe()
    }

    /// Changes the queue, then tells the window when the shown question
    /// is another one.
    fn change<T>(&self, change: impl FnOnce(&mut VecDeque<Pending>) -> T) -> T {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let result = change(&mut queue);
        let front = queue.front().map(|pending| Shown {
            id: pending.id.clone(),
            title: title(&pending.question),
        });
        self.shown.send_if_modified(|shown| {
            let modified = *shown != front;
            *shown = front;
            modified
        });
        result
    }
}

/// Takes its question back when the asking future ends or is dropped.
struct TakeBack<'a> {
    questions: &'a Questions,
    id: String,
}

impl Drop for TakeBack<'_> {
    fn drop(&mut self) {
        self.questions
            .change(|queue| queue.retain(|pending| pending.id != self.id));
    }
}

/// The dialog's title: the program and the profile (no token, S32).
fn title(question: &Question) -> String {
    format!(
        "Tokentray — allow {} to use {}?",
        question.name, question.profile
    )
}

fn view(pending: &Pending, left: Duration, waiting: usize) -> ConsentView {
    let question = &pending.question;
    ConsentView {
        id: pending.id.clone(),
        action: question.action.to_owned(),
        program: question.name.clone(),
        path: question.path.clone(),
        script: question.script.clone(),
        icon: pending.icon.clone(),
        ssh: question.ssh.clone(),
        parents: question.parents.clone(),
        pid: question.pid,
        profile: question.profile.clone(),
        account: question.account.clone(),
        scopes: question.scopes.clone(),
        // a started second counts: "1 s" until the very end
        seconds_left: left.as_millis().div_ceil(1000).try_into().unwrap_or(0),
        waiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn question(name: &str) -> Question {
        Question {
            profile: "graph".into(),
            account: Some("alice".into()),
            scopes: vec!["api.read".into()],
            action: "token",
            name: name.into(),
            path: Some(format!("/usr/bin/{name}")),
            script: None,
            ssh: None,
            parents: vec!["bash".into()],
            pid: 42,
        }
    }

    /// Asks about `name` in a task of its own; returns the task once the
    /// question is queued.
    async fn asked(
        questions: &Arc<Questions>,
        name: &'static str,
        timeout: Duration,
    ) -> tokio::task::JoinHandle<Answer> {
        let asking = Arc::clone(questions);
        let icon = Some(format!("data:image/png;base64,{name}"));
        let task = tokio::spawn(async move { asking.ask(&question(name), icon, timeout).await });
        while !questions
            .queue
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.question.name == name)
        {
            tokio::task::yield_now().await;
        }
        task
    }

    fn shown_id(questions: &Questions) -> String {
        questions.view().map(|view| view.id).unwrap_or_default()
    }

    // S40: an answer is bound to the shown question's random id
    #[tokio::test]
    async fn only_the_shown_questions_id_answers_it() {
        let questions = Arc::new(Questions::default());
        let mut shown = questions.subscribe();
        let first = asked(&questions, "python3", Duration::from_secs(60)).await;
        let second = asked(&questions, "curl", Duration::from_secs(60)).await;
        let view = questions.view().unwrap();
        assert_eq!(view.program, "python3");
        assert_eq!(view.icon.as_deref(), Some("data:image/png;base64,python3"));
        assert_eq!(view.waiting, 1);
        assert!(
            view.seconds_left > 58 && view.seconds_left <= 60,
            "{view:?}"
        );
        assert_eq!(view.id.len(), 32);
        assert_eq!(
            shown.borrow_and_update().clone().unwrap(),
            Shown {
                id: view.id.clone(),
                title: "Tokentray — allow python3 to use graph?".into()
            }
        );

        // forged: an id nobody was given; the queued question's own id
        // while it is not shown
        assert!(!questions.answer("0123456789abcdef0123456789abcdef", Answer::Always));
        let queued = questions.queue.lock().unwrap()[1].id.clone();
        assert!(!questions.answer(&queued, Answer::Always));
        assert!(!shown.has_changed().unwrap());

        assert!(questions.answer(&view.id, Answer::Once));
        assert_eq!(first.await.unwrap(), Answer::Once);
        // stale: answered already
        assert!(!questions.answer(&view.id, Answer::Always));
        assert_eq!(questions.view().unwrap().program, "curl");
        assert_eq!(shown.borrow_and_update().clone().unwrap().id, queued);
        assert!(questions.answer(&queued, Answer::Deny));
        assert_eq!(second.await.unwrap(), Answer::Deny);
        assert_eq!(questions.view(), None);
        assert_eq!(*shown.borrow_and_update(), None);
    }

    #[tokio::test]
    async fn a_question_given_up_leaves_the_dialog() {
        let questions = Arc::new(Questions::default());
        let asking = asked(&questions, "python3", Duration::from_secs(60)).await;
        let gone = shown_id(&questions);
        let next = asked(&questions, "curl", Duration::from_secs(60)).await;
        // the gate's timeout or the program's disconnect drops the future
        asking.abort();
        assert!(asking.await.unwrap_err().is_cancelled());
        assert_eq!(questions.view().unwrap().program, "curl");
        assert!(!questions.answer(&gone, Answer::Always), "stale");
        questions.deny_shown();
        assert_eq!(next.await.unwrap(), Answer::Deny);
        assert_eq!(questions.view(), None);
    }

    #[tokio::test]
    async fn nobody_answers_then_it_times_out() {
        let questions = Arc::new(Questions::default());
        let asking = asked(&questions, "python3", Duration::from_millis(50)).await;
        let id = shown_id(&questions);
        assert_eq!(asking.await.unwrap(), Answer::TimedOut);
        assert_eq!(questions.view(), None);
        assert!(!questions.answer(&id, Answer::Once), "too late");
    }
}
