//! The query string, parsed once: every route reads `teamId` from it and
//! the list route its filters.

use std::borrow::Cow;

use crate::FieldError;

/// Decoded query parameters in request order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// `application/x-www-form-urlencoded` decoding, so `+` is a space as
    /// curl's `--data-urlencode` and the SDKs send it.
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            raw.map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// The value of `name`, trimmed. A parameter given twice is an error
    /// rather than a silent pick of one of them.
    pub fn get(&self, name: &'static str) -> Result<Option<&str>, FieldError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        match (values.next(), values.next()) {
            (Some(v), None) => Ok(Some(v.trim())),
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(FieldError::new(name, Cow::Borrowed("must be given once"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_rejects_repeats() {
        let q = Query::parse(Some("name=Wallpaper+App&teamId=t%5F1&page=1&page=2"));
        assert_eq!(q.get("name"), Ok(Some("Wallpaper App")));
        assert_eq!(q.get("teamId"), Ok(Some("t_1")));
        assert_eq!(q.get("limit"), Ok(None));
        assert_eq!(
            q.get("page").map_err(|e| e.message),
            Err("must be given once".into())
        );
        assert_eq!(Query::parse(None).get("teamId"), Ok(None));
    }
}
