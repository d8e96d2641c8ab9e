//! The one query-string reader of every service: `a=1&b=2&b=3`, percent-decoded, keys in
//! order, repeated keys kept (filters such as `broadcaster_id` repeat).

/// A parsed query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryString(Vec<(String, String)>);

impl QueryString {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// Parses a query string and a form body together (the OAuth token endpoint accepts both).
    pub fn parse_with_body(raw: Option<&str>, body: &[u8]) -> Self {
        let mut pairs = Self::parse(raw).0;
        pairs.extend(url::form_urlencoded::parse(body).into_owned());
        Self(pairs)
    }

    /// The first value of `key`, empty values included.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `key` (where a later source overrides an earlier one, as a form body
    /// does a query string).
    pub fn last(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key`, unless it is empty (an HTML form sends empty fields).
    pub fn one(&self, key: &str) -> Option<&str> {
        self.first(key).filter(|v| !v.is_empty())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// A whole number within `min..=max`, `default` when absent; the error is a sentence
    /// that names the parameter and what it accepts.
    pub fn number(&self, key: &str, default: u32, min: u32, max: u32) -> Result<u32, String> {
        match self.one(key) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    crate::i18n::current().t_args(
                        "error-param-number",
                        &[
                            ("key", key.into()),
                            ("min", min.to_string().into()),
                            ("max", max.to_string().into()),
                            ("raw", raw.into()),
                        ],
                    )
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_kept_in_order_and_values_are_decoded() {
        let q = QueryString::parse(Some("b=1&a=x%20y&b=&b=3"));
        assert_eq!(q.all("b"), ["1", "", "3"]);
        assert_eq!(q.one("a"), Some("x y"));
        assert_eq!(q.first("b"), Some("1"));
        assert_eq!(q.last("b"), Some("3"));
        let both = QueryString::parse_with_body(Some("a=query"), b"a=body");
        assert_eq!(
            (both.first("a"), both.last("a")),
            (Some("query"), Some("body"))
        );
        assert_eq!(QueryString::parse(Some("a=")).one("a"), None);
        assert_eq!(QueryString::parse(Some("a=")).first("a"), Some(""));
        assert!(QueryString::parse(None).pairs().is_empty());
    }

    #[test]
    fn numbers_are_checked_against_their_range() {
        let q = QueryString::parse(Some("page=3&per_page=0&x=a"));
        assert_eq!(q.number("page", 1, 1, 10), Ok(3));
        assert_eq!(q.number("absent", 7, 1, 10), Ok(7));
        let err = q
            .number("per_page", 50, 1, 500)
            .expect_err("0 is out of range");
        assert!(err.contains("from 1 to 500"), "{err}");
        assert!(q.number("x", 1, 1, 9).is_err());
    }
}
