//! NicSRS response codes, and every inferred wire choice, in one place.
//!
//! The official "Appendix – Response Codes" page was not retrievable; the
//! table below is compiled from three public clients (see
//! `NICSRS_API.md`). The sandbox answers with the same constants, so
//! correcting a guess here corrects client and simulator together.

/// One documented response code with a human explanation and advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The wire value of `code`.
    pub code: i64,
    /// What NicSRS means by it.
    pub meaning: &'static str,
    /// What the caller can do about it.
    pub advice: &'static str,
}

/// Success.
pub const OK: i64 = 1;
/// Still being processed or issued; ask again later. Not an error.
pub const PROCESSING: i64 = 2;
/// Parameter validation failed; `errors` names the fields.
pub const VALIDATION_FAILED: i64 = -1;
/// Unknown or unexpected error.
pub const UNKNOWN_ERROR: i64 = -2;
/// Product or price error.
pub const PRODUCT_OR_PRICE: i64 = -3;
/// Insufficient balance.
pub const INSUFFICIENT_BALANCE: i64 = -4;
/// The order's status does not allow this operation.
pub const ORDER_STATUS: i64 = -5;
/// The CA request failed (one client reads it as "cancellation failed").
pub const CA_REQUEST_FAILED: i64 = -6;
/// The certificate's status does not allow this operation.
pub const CERT_STATUS: i64 = -7;
/// The order was already cancelled.
pub const ALREADY_CANCELLED: i64 = -8;
/// Permission denied: bad token, or the caller's IP is not allow-listed.
pub const PERMISSION_DENIED: i64 = 400;

const TABLE: &[CodeInfo] = &[
    CodeInfo {
        code: OK,
        meaning: "success",
        advice: "",
    },
    CodeInfo {
        code: PROCESSING,
        meaning: "the certificate is still being processed",
        advice: "ask again later",
    },
    CodeInfo {
        code: VALIDATION_FAILED,
        meaning: "parameter validation failed",
        advice: "fix the fields named in the error details",
    },
    CodeInfo {
        code: UNKNOWN_ERROR,
        meaning: "unknown or unexpected error at NicSRS",
        advice: "retry later; if it persists, contact NicSRS support (an empty prepaid balance has also been seen to answer this code)",
    },
    CodeInfo {
        code: PRODUCT_OR_PRICE,
        meaning: "product or price error",
        advice: "check that the product can be renewed for the requested number of years",
    },
    CodeInfo {
        code: INSUFFICIENT_BALANCE,
        meaning: "insufficient account balance",
        advice: "top up the NicSRS reseller balance and try again",
    },
    CodeInfo {
        code: ORDER_STATUS,
        meaning: "the order's status does not allow this operation",
        advice: "check the order's status with collect",
    },
    CodeInfo {
        code: CA_REQUEST_FAILED,
        meaning: "the request to the certificate authority failed (reported by some clients as \"cancellation failed\")",
        advice: "retry later; on DCV operations this usually means the CA is busy",
    },
    CodeInfo {
        code: CERT_STATUS,
        meaning: "the certificate's status does not allow this operation",
        advice: "renewal is possible only when the certificate expires within 90 days; cancellation only within 30 days of issue",
    },
    CodeInfo {
        code: ALREADY_CANCELLED,
        meaning: "the order was already cancelled",
        advice: "nothing to do",
    },
    CodeInfo {
        code: PERMISSION_DENIED,
        meaning: "permission denied: the API token is wrong, or this machine's IP address is not on the account's allow-list",
        advice: "check the api_token and the IP allow-list in the NicSRS console",
    },
];

/// The explanation of a response code; undocumented codes get a generic one.
pub fn describe(code: i64) -> CodeInfo {
    TABLE
        .iter()
        .copied()
        .find(|c| c.code == code)
        .unwrap_or(CodeInfo {
            code,
            meaning: "undocumented response code",
            advice: "see the error details; contact NicSRS support if unclear",
        })
}

/// True for the codes a caller treats as success (`1`, and `2` = in progress).
pub fn is_success(code: i64) -> bool {
    code == OK || code == PROCESSING
}

// ---------------------------------------------------------------------------
// Inferred choices. None of these is documented by NicSRS; each is our best
// reading, shared by the client and the sandbox.
// ---------------------------------------------------------------------------

/// *Inferred:* How a lookup of an unknown id (`certIdByrefId` with an unknown
/// `refId`, `collect`/`cancel`/`updateDCV` with an unknown `certId`,
/// `renew` with an unknown `renewId`) is answered: a validation failure
/// whose `errors` text says "not found". The sandbox answers exactly
/// `NOT_FOUND_CODE` with `"<field> not found"`.
pub const NOT_FOUND_CODE: i64 = VALIDATION_FAILED;

/// *Inferred:* Error texts that mark an answer as "that id does not exist"
/// rather than "the request was malformed". Matched case-insensitively.
pub const NOT_FOUND_MARKERS: &[&str] = &["not found", "not exist", "no order", "no record"];

/// *Inferred:* Whether an API error means "no such id". Besides the sandbox's
/// own `-1` + "not found", `-2` with the same wording is accepted, since the
/// live API's wording is unknown. A `certIdByrefId` answering code `1` with an
/// empty `certId` also counts as not found (handled by the client).
pub fn is_not_found(code: i64, errors: &[String]) -> bool {
    (code == NOT_FOUND_CODE || code == UNKNOWN_ERROR)
        && errors.iter().any(|e| {
            let e = e.to_ascii_lowercase();
            NOT_FOUND_MARKERS.iter().any(|m| e.contains(m))
        })
}

/// *Inferred:* The code for a renewal of a certificate that expires in more
/// than [`RENEWAL_WINDOW_DAYS`] days, or that is not issued: "certificate
/// status does not allow this".
/// The order status of a cancelled order (collect's top-level `status`).
pub const STATUS_CANCELLED: &str = "CANCELLED";
/// The order status of an issued order (collect's top-level `status`).
pub const STATUS_COMPLETE: &str = "COMPLETE";
/// `status` of an order waiting for validation.
pub const STATUS_PENDING: &str = "PENDING";
/// The `status` values from which an order is never issued [inferred
/// beyond CANCELLED].
pub const FAILED_STATUSES: [&str; 5] = ["CANCELLED", "REJECTED", "REVOKED", "EXPIRED", "FAILED"];

/// Inferred: NicSRS refuses a renew whose `refId` an earlier order already
/// carries, with code `-1` and a message about the refId. The provider
/// relies on its own lookup before ordering; this refusal is the second
/// line of defence, and the sandbox answers it with this wording.
pub const REF_ID_TAKEN_MESSAGE: &str = "refId already used";

/// Whether an error answer is the refusal of an already used refId.
pub fn is_ref_id_taken(code: i64, errors: &[String]) -> bool {
    code == VALIDATION_FAILED
        && errors.iter().any(|e| {
            let e = e.to_ascii_lowercase();
            e.contains("refid")
                && (e.contains("used") || e.contains("exist") || e.contains("duplicate"))
        })
}

pub const RENEW_NOT_ALLOWED_CODE: i64 = CERT_STATUS;

/// *Seed:* Renewal is possible when the certificate expires within this many days.
pub const RENEWAL_WINDOW_DAYS: i64 = 90;

/// The first instant at which a certificate expiring at `expires` can be
/// renewed: [`RENEWAL_WINDOW_DAYS`] before its expiry.
pub fn renewal_opens(expires: time::OffsetDateTime) -> time::OffsetDateTime {
    expires - time::Duration::days(RENEWAL_WINDOW_DAYS)
}

/// *Documented:* An issued certificate can be cancelled within this many days of issue.
pub const CANCEL_WINDOW_DAYS: i64 = 30;

/// *Inferred:* The code for cancelling an issued certificate past the
/// cancellation window: "certificate status does not allow this".
pub const CANCEL_TOO_LATE_CODE: i64 = CERT_STATUS;

/// *Inferred:* The code for `updateDCV` on an order that is not pending:
/// "order status does not allow this".
pub const NOT_PENDING_CODE: i64 = ORDER_STATUS;

/// *Inferred:* `collect` on a pending order answers code `2` ("still being
/// issued") with the full `data`; a complete or cancelled one answers `1`.
pub const COLLECT_PENDING_CODE: i64 = PROCESSING;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_a_meaning() {
        for code in [1, 2, -1, -2, -3, -4, -5, -6, -7, -8, 400] {
            let info = describe(code);
            assert_eq!(info.code, code);
            assert_ne!(info.meaning, "undocumented response code", "code {code}");
        }
        assert_eq!(describe(77).meaning, "undocumented response code");
    }

    #[test]
    fn not_found_needs_the_code_and_the_wording() {
        let nf = vec!["refId not found".to_string()];
        assert!(is_not_found(-1, &nf));
        assert!(is_not_found(-2, &["Order does not exist".to_string()]));
        assert!(!is_not_found(-1, &["refId is required".to_string()]));
        assert!(!is_not_found(-4, &nf));
        assert!(is_success(2) && is_success(1) && !is_success(-1));
    }
}
