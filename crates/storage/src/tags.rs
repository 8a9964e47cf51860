//! Tag statistics. Tags live on the tasks (`tasks.tags`); renames and deletes
//! go through [`crate::tasks::with_tag_for_update`] and [`crate::tasks::retag`].
//! The counts are kept in `tag_counts` by a trigger on `tasks` that runs inside
//! every statement writing tasks (migration 0004), so reading them costs a few
//! rows, not a pass over the user's tasks.

use spindle_ports::{Db, DbError, Param};

/// A tag and how many of the user's tasks carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub name: String,
    pub open: i64,
    pub total: i64,
}

/// Every tag of the user with its open and total task counts, by name.
pub fn counts(db: &impl Db, user_id: &str) -> Result<Vec<TagCount>, DbError> {
    let rows = db.query(
        "SELECT tag, open, total FROM tag_counts
          WHERE user_id = $1 AND total > 0
          ORDER BY tag",
        &[Param::Str(user_id.to_owned())],
    )?;
    rows.iter()
        .map(|row| {
            Ok(TagCount {
                name: row.str("tag")?,
                open: row.i64("open")?,
                total: row.i64("total")?,
            })
        })
        .collect()
}
