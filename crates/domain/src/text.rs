//! Titles, descriptions and tags.

use serde::Serialize;

const MAX_TITLE_CHARS: usize = 500;
const MAX_DESCRIPTION_CHARS: usize = 10_000;
const MAX_TAG_CHARS: usize = 50;
/// The most tags one task may carry.
pub const MAX_TAGS: usize = 20;

/// Postgres refuses NUL in text, and other control characters in a title or
/// tag are invisible to the person reading them.
fn has_forbidden_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')))
}

/// A task title: trimmed, 1–500 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err("must not be empty".into());
        }
        if chars > MAX_TITLE_CHARS {
            return Err(format!(
                "must be at most {MAX_TITLE_CHARS} characters (got {chars})"
            ));
        }
        if has_forbidden_control(trimmed, false) {
            return Err("must not contain control characters or line breaks".into());
        }
        Ok(Title(trimmed.to_owned()))
    }

    /// A title already stored, trusted as written by `parse`.
    pub fn from_stored(stored: String) -> Self {
        Title(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task description: up to 10 000 characters; line breaks and tabs allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "must be at most {MAX_DESCRIPTION_CHARS} characters (got {chars})"
            ));
        }
        if has_forbidden_control(raw, true) {
            return Err(
                "must not contain control characters other than line breaks and tabs".into(),
            );
        }
        Ok(Description(raw.to_owned()))
    }

    /// A description already stored, trusted as written by `parse`.
    pub fn from_stored(stored: String) -> Self {
        Description(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag: trimmed, lower-case, 1–50 characters, no commas (lists of tags are
/// written comma-separated in query strings) and no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalised = raw.trim().to_lowercase();
        let chars = normalised.chars().count();
        if chars == 0 {
            return Err("a tag must not be empty".into());
        }
        if chars > MAX_TAG_CHARS {
            return Err(format!(
                "a tag must be at most {MAX_TAG_CHARS} characters (got {chars})"
            ));
        }
        if normalised.contains(',') {
            return Err("a tag must not contain a comma".into());
        }
        if has_forbidden_control(&normalised, false) {
            return Err("a tag must not contain control characters".into());
        }
        Ok(Tag(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A task's tags: normalised, unique, in first-seen order, at most 20.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tags(Vec<Tag>);

impl Tags {
    /// Parses every tag, reporting each bad one with its index.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, Vec<(usize, String)>> {
        let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
        let mut errors = Vec::new();
        for (i, item) in raw.iter().enumerate() {
            match Tag::parse(item.as_ref()) {
                Ok(tag) if !tags.contains(&tag) => tags.push(tag),
                Ok(_) => {}
                Err(message) => errors.push((i, message)),
            }
        }
        if errors.is_empty() && tags.len() > MAX_TAGS {
            errors.push((
                MAX_TAGS,
                format!(
                    "a task may have at most {MAX_TAGS} tags (got {})",
                    tags.len()
                ),
            ));
        }
        if errors.is_empty() {
            Ok(Tags(tags))
        } else {
            Err(errors)
        }
    }

    /// Tags already stored, trusted as written by `parse`.
    pub fn from_stored(stored: Vec<String>) -> Self {
        Tags(stored.into_iter().map(Tag).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }

    pub fn contains(&self, tag: &Tag) -> bool {
        self.0.contains(tag)
    }

    /// These tags with `from` replaced by `to` in place; when the task already
    /// has `to`, the two merge into one.
    pub fn renamed(&self, from: &Tag, to: &Tag) -> Tags {
        let mut out: Vec<Tag> = Vec::with_capacity(self.0.len());
        for tag in &self.0 {
            let tag = if tag == from { to } else { tag };
            if !out.contains(tag) {
                out.push(tag.clone());
            }
        }
        Tags(out)
    }

    /// These tags without `tag`.
    pub fn without(&self, tag: &Tag) -> Tags {
        Tags(self.0.iter().filter(|t| *t != tag).cloned().collect())
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|t| t.0.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_trimmed() {
        assert_eq!(Title::parse("  Buy milk \n").unwrap().as_str(), "Buy milk");
    }

    #[test]
    fn a_blank_title_is_rejected() {
        assert!(Title::parse("   ").is_err());
    }

    #[test]
    fn a_title_of_500_characters_is_accepted_and_501_rejected() {
        assert!(Title::parse(&"é".repeat(500)).is_ok());
        assert!(Title::parse(&"é".repeat(501)).is_err());
    }

    #[test]
    fn a_title_with_a_nul_is_rejected() {
        assert!(Title::parse("a\0b").is_err());
    }

    #[test]
    fn tags_are_trimmed_lower_cased_and_deduplicated() {
        let tags = Tags::parse(&[" Work", "work ", "HOME"]).unwrap();
        assert_eq!(tags.to_strings(), vec!["work", "home"]);
    }

    #[test]
    fn renaming_into_an_existing_tag_merges_them() {
        let tags = Tags::parse(&["a", "b", "c"]).unwrap();
        let merged = tags.renamed(&Tag::parse("a").unwrap(), &Tag::parse("c").unwrap());
        assert_eq!(merged.to_strings(), vec!["c", "b"]);
    }

    #[test]
    fn twenty_one_distinct_tags_are_rejected() {
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
        assert!(Tags::parse(&many[..20]).is_ok());
    }

    #[test]
    fn a_bad_tag_is_reported_with_its_index() {
        let errors = Tags::parse(&["ok", "", "x".repeat(51).as_str()]).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1, 2]);
    }
}
