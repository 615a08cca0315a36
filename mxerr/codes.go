// Package mxerr holds the Matrix error codes and the error value that the server writes
// and the client package reads: an errcode with its HTTP status and message, usable with
// errors.Is and errors.As, and the User-Interactive Authentication challenge.
package mxerr

// Code is a Matrix errcode such as "M_FORBIDDEN".
type Code string

// The errcodes of the account-management surface of the Client-Server API
// (https://spec.matrix.org/v1.13/client-server-api/#standard-error-response), plus
// M_GUEST_ACCESS_FORBIDDEN, which Synapse uses and clients recognise.
const (
	CodeForbidden               Code = "M_FORBIDDEN"
	CodeUnknownToken            Code = "M_UNKNOWN_TOKEN"
	CodeMissingToken            Code = "M_MISSING_TOKEN"
	CodeUserLocked              Code = "M_USER_LOCKED"
	CodeUserSuspended           Code = "M_USER_SUSPENDED"
	CodeBadJSON                 Code = "M_BAD_JSON"
	CodeNotJSON                 Code = "M_NOT_JSON"
	CodeNotFound                Code = "M_NOT_FOUND"
	CodeLimitExceeded           Code = "M_LIMIT_EXCEEDED"
	CodeUnrecognized            Code = "M_UNRECOGNIZED"
	CodeUnknown                 Code = "M_UNKNOWN"
	CodeUnauthorized            Code = "M_UNAUTHORIZED"
	CodeUserDeactivated         Code = "M_USER_DEACTIVATED"
	CodeUserInUse               Code = "M_USER_IN_USE"
	CodeInvalidUsername         Code = "M_INVALID_USERNAME"
	CodeExclusive               Code = "M_EXCLUSIVE"
	CodeThreepidInUse           Code = "M_THREEPID_IN_USE"
	CodeThreepidNotFound        Code = "M_THREEPID_NOT_FOUND"
	CodeThreepidAuthFailed      Code = "M_THREEPID_AUTH_FAILED"
	CodeThreepidDenied          Code = "M_THREEPID_DENIED"
	CodeThreepidMediumNotSupp   Code = "M_THREEPID_MEDIUM_NOT_SUPPORTED"
	CodeServerNotTrusted        Code = "M_SERVER_NOT_TRUSTED"
	CodeMissingParam            Code = "M_MISSING_PARAM"
	CodeInvalidParam            Code = "M_INVALID_PARAM"
	CodeTooLarge                Code = "M_TOO_LARGE"
	CodeWeakPassword            Code = "M_WEAK_PASSWORD"
	CodeSessionExpired          Code = "M_SESSION_EXPIRED"
	CodeTokenIncorrect          Code = "M_TOKEN_INCORRECT"
	CodeUnknownDevice           Code = "M_UNKNOWN_DEVICE"
	CodeGuestAccessForbidden    Code = "M_GUEST_ACCESS_FORBIDDEN"
	CodeAppserviceLoginUnsupp   Code = "M_APPSERVICE_LOGIN_UNSUPPORTED"
	CodeResourceLimitExceeded   Code = "M_RESOURCE_LIMIT_EXCEEDED"
	CodeUserLimitExceeded       Code = "M_USER_LIMIT_EXCEEDED"
	CodeCannotLeaveServerNotice Code = "M_CANNOT_LEAVE_SERVER_NOTICE_ROOM"
)
