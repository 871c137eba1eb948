//! Idempotency receipts: the first answer to a keyed write, kept for
//! retries (see [`crate::domain::idempotency`]). They are written by the
//! writes themselves (each write method takes an `Option<&Receipt>` and puts
//! it in its own transaction), so a receipt exists exactly when its write
//! happened; this trait reads them, and removes one whose answer must not
//! be given again.

use std::future::Future;

use super::StoreError;
use crate::domain::{IdempotencyKey, Receipt, ReceiptScope, Timestamp};

pub trait ReceiptStore: Send + Sync {
    /// The live receipt of `key` in `scope`, strongly consistent; `None`
    /// when there is none or it expired at or before `now` (TTL deletes
    /// lazily).
    fn get_receipt(
        &self,
        scope: &ReceiptScope,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Receipt>, StoreError>> + Send;

    /// Removes the receipt of `key` in `scope`, if any.
    fn delete_receipt(
        &self,
        scope: &ReceiptScope,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
