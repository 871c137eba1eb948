//! What every activity route shares: `cursor` and `limit`, and the page
//! `{"results": [event], "nextCursor"}`.

use axum::response::Response;
use http::StatusCode;
use serde::Serialize;

use super::{Query, json};
use crate::domain::activity::{Cursor, Event, EventPage};
use crate::error::{ApiError, FieldErrors};
use crate::store::activity::MAX_PAGE;

/// Events per page when `limit` is not given.
pub const DEFAULT_PAGE: u16 = 20;

/// `cursor` and `limit` of an activity route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageParams {
    pub cursor: Option<Cursor>,
    pub limit: u16,
}

impl PageParams {
    pub fn parse(query: &Query) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::new();
        let cursor = match query.get("cursor") {
            Err(e) => {
                errors.add(e.field, e.message);
                None
            }
            Ok(None | Some("")) => Some(None),
            Ok(Some(raw)) => errors.check("cursor", Cursor::parse(raw).map(Some).map_err(|e| e.0)),
        };
        let limit = match query.get("limit") {
            Err(e) => {
                errors.add(e.field, e.message);
                None
            }
            Ok(None | Some("")) => Some(DEFAULT_PAGE),
            Ok(Some(raw)) => errors.check(
                "limit",
                raw.parse::<u16>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or("must be a whole number from 1 to 100"),
            ),
        };
        let params = cursor
            .zip(limit)
            .map(|(cursor, limit)| Self { cursor, limit });
        errors.finish(params)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventsPage {
    results: Vec<Event>,
    next_cursor: Option<String>,
}

/// A page of events as the activity routes answer it.
pub fn events_page(page: EventPage) -> Response {
    json(
        StatusCode::OK,
        &EventsPage {
            results: page.events,
            next_cursor: page.next.map(|c| c.encode()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EventId;

    #[test]
    fn page_params_default_bound_and_reject_garbage() {
        let ok = PageParams::parse(&Query::parse(Some("teamId=t"))).expect("defaults");
        assert_eq!((ok.cursor, ok.limit), (None, DEFAULT_PAGE));
        let cursor = Cursor(EventId::generate());
        let q = format!("limit=100&cursor={}", cursor.encode());
        let ok = PageParams::parse(&Query::parse(Some(&q))).expect("valid");
        assert_eq!((ok.cursor, ok.limit), (Some(cursor), 100));
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "cursor=nope",
            "limit=1&limit=2",
        ] {
            let err = PageParams::parse(&Query::parse(Some(bad))).expect_err(bad);
            assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}
