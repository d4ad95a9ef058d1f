//! The one API error type: every failure maps to a stable problem `type`, an HTTP status
//! and a human `detail`, rendered as RFC 9457 `application/problem+json`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Result of a handler or service call.
pub type ApiResult<T> = Result<T, ApiError>;

/// Everything that can go wrong, as a client should hear it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a value is invalid; `field` names the culprit.
    #[error("{detail}")]
    Invalid {
        /// JSON path or form field that is wrong, if one is.
        field: Option<String>,
        /// What is wrong, in plain words.
        detail: String,
    },
    /// Several fields are wrong at once (a form checked against its schema); each is
    /// named with what is wrong, in the order found.
    #[error("{}", describe_fields(.0))]
    InvalidFields(Vec<FieldError>),
    /// The thing asked for does not exist (or the caller may not know it exists).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (duplicate, wrong state).
    #[error("{0}")]
    Conflict(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Refused for a named reason the caller can act on (e.g. `no_agreement`,
    /// `consent_revoked`); 403 with that code as the problem type.
    #[error("{detail}")]
    Refused {
        /// Stable reason code.
        code: &'static str,
        /// What is missing, in plain words.
        detail: String,
    },
    /// An upstream system (a provider's endpoint) failed or did not answer.
    #[error("{0}")]
    BadGateway(String),
    /// Too many attempts; try again after `retry_after_secs`.
    #[error("{detail}")]
    TooManyRequests {
        /// What was throttled.
        detail: String,
        /// Seconds until a new attempt is accepted.
        retry_after_secs: u64,
    },
    /// The body is larger than allowed.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body has the wrong media type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A dependency (the store) is not available.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; details go to the log, not the client.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    /// An invalid value in `field`.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: Some(field.into()),
            detail: detail.into(),
        }
    }

    /// An invalid request not tied to one field.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: None,
            detail: detail.into(),
        }
    }

    /// The stable problem code, e.g. `invalid_input`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { .. } | ApiError::InvalidFields(_) => "invalid_input",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Refused { code, .. } => code,
            ApiError::BadGateway(_) => "bad_gateway",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Unexpected(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } | ApiError::InvalidFields(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::Refused { .. } => StatusCode::FORBIDDEN,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The field at fault, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Invalid { field, .. } => field.as_deref(),
            ApiError::InvalidFields(errors) => errors.first().map(|e| e.field.as_str()),
            _ => None,
        }
    }

    /// The detail a client may see (unexpected errors are not described).
    pub fn public_detail(&self) -> String {
        match self {
            ApiError::Unexpected(_) => {
                "an unexpected error occurred; it has been logged".to_string()
            }
            other => other.to_string(),
        }
    }

    /// The RFC 9457 body.
    pub fn problem(&self) -> Problem {
        Problem {
            r#type: format!("urn:civitas:problem:{}", self.code()),
            title: self
                .status()
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status().as_u16(),
            detail: self.public_detail(),
            field: self.field().map(str::to_string),
            errors: match self {
                ApiError::InvalidFields(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }

    /// Every field at fault with what is wrong with it (one for [`ApiError::Invalid`]).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            ApiError::InvalidFields(errors) => errors.clone(),
            ApiError::Invalid {
                field: Some(field),
                detail,
            } => vec![FieldError {
                field: field.clone(),
                detail: detail.clone(),
            }],
            _ => Vec::new(),
        }
    }
}

/// One wrong field of a request.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field (a form property or JSON path).
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

fn describe_fields(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.detail))
        .collect();
    match errors.len() {
        1 => parts.join(""),
        n => format!("{n} fields need attention — {}", parts.join("; ")),
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                ApiError::Unavailable("the database is not available".into())
            }
            other => ApiError::Unexpected(other.into()),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable problem type, `urn:civitas:problem:<code>`.
    pub r#type: String,
    /// Short summary of the status.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong, in plain words.
    pub detail: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field at fault, when several are (form validation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Unexpected(error) = &self {
            tracing::error!(error = %format!("{error:#}"), "unexpected error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
