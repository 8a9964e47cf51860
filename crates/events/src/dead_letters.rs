//! Dead letters: events that used up their delivery attempts, and their replay.

use spindle_ports::{Db, DbError, Publisher};
use spindle_storage::dead_letters::{self, Reopened};

pub use spindle_storage::dead_letters::{list, DeadLetter};

use crate::publish::{self, PublishProblem};

/// Why a replay did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("there is no dead letter {id}; list the dead letters to find its id")]
    NotFound { id: i64 },
    #[error("dead letter {id} was already replayed at {replayed_at}; if its event failed again it has a new dead letter")]
    AlreadyReplayed { id: i64, replayed_at: String },
    #[error("dead letter {id} could not be replayed: {source}; nothing was changed, try again")]
    Database {
        id: i64,
        #[source]
        source: DbError,
    },
}

/// What a replay did.
#[derive(Debug)]
pub struct Replayed {
    pub dead_letter_id: i64,
    pub seq: i64,
    /// Published right away. When not, the event is due now and the next relay
    /// tick publishes it; `problem` says why.
    pub published: bool,
    pub problem: Option<PublishProblem>,
}

/// Gives dead letter `id`'s event a fresh set of delivery attempts and
/// publishes it now. The dead letter is marked replayed, so replaying it again
/// is refused; if the event fails again, it gets a new dead letter.
pub fn replay(db: &impl Db, publisher: &impl Publisher, id: i64) -> Result<Replayed, ReplayError> {
    let seq = match dead_letters::reopen(db, id)
        .map_err(|source| ReplayError::Database { id, source })?
    {
        Reopened::Reopened { seq } => seq,
        Reopened::AlreadyReplayed { replayed_at } => {
            return Err(ReplayError::AlreadyReplayed { id, replayed_at })
        }
        Reopened::NotFound => return Err(ReplayError::NotFound { id }),
    };
    let report = publish::after_commit(db, publisher, &[seq]);
    Ok(Replayed {
        dead_letter_id: id,
        seq,
        published: report.published.contains(&seq),
        problem: report.problem,
    })
}
