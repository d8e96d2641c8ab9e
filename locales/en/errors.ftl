# Error pages, JSON errors and the login's problems.

error-status = Error { $status }
error-bad-request = That request was not valid
error-forbidden = Not allowed
error-not-found = Nothing here
error-not-found-message = This page does not exist, or it is not yours.
error-conflict = That cannot be done now
error-too-many = Slow down
error-too-many-message = Too many login attempts from your address. Wait a minute and try again.
error-unavailable = Twitch is unavailable
error-internal = Something went wrong
error-internal-message = The error was logged. Try again; if it keeps happening, tell the people running this app.
error-not-moderator = Twitch says you are not a moderator of this channel.
error-twitch-down = Twitch is not answering right now, or the app's Twitch settings are being changed. Nothing is lost: try again in a minute.
error-other-site = This form was sent from another site.
error-csrf = This form is out of date or was not sent from this app (CSRF check). Reload the page and try again.
error-form-too-large = The form is too large.
error-form-unreadable = The form could not be read.
error-form-invalid = The form is not valid: { $reason }.
error-unknown-language = “{ $lang }” is not a language of this app (en, fr).
action-channels = Back to your channels
action-sessions = Your sessions
action-home = Home
action-try-again = Try again

json-error-login = Your login has ended. Reload the page and log in again.
json-error-not-found = This does not exist, or it is not yours.
json-error-too-many = Too many requests. Wait a minute.
json-error-internal = Something went wrong; the error was logged.

login-again = Log in with Twitch again
login-incomplete = Login link incomplete
login-no-state = Twitch sent us back without the login's state. Start again.
login-no-code = Twitch sent us back without a code. Start again.
login-cancelled = Login cancelled
login-cancelled-message = You cancelled on Twitch's page, so you are not logged in. Nothing was shared with this app.
login-refused-message = Twitch did not let you log in: { $reason }.
login-link-unusable = This login link cannot be used
login-link-unusable-message = It was already used, has expired (logins must finish within 10 minutes), or was started in another browser. Start again from this browser.
login-refused = Twitch refused the login

# Parameters of pages and of the analysis service (the service answers in the caller's
# language too).
error-day = “{ $raw }” is not a day (YYYY-MM-DD, e.g. 2024-03-14).
error-twitch-user-id = “{ $raw }” is not a Twitch user id (digits).
error-cohort-id = “{ $raw }” is not a cohort id (digits).
error-session-id = “{ $raw }” is not a session id (a UUID like 0b6f…-…).
error-export-file = “{ $raw }” is not an export: accounts, cohorts, creation or timeline, as .csv or .json.
error-page = page must be a whole number from 1, got “{ $raw }”.
error-param-day = { $name } must be a date like 2024-03-14, got “{ $raw }”.
error-param-broadcaster = broadcaster_id must be Twitch ids (digits).
error-param-period-and-range = Give period or from/to, not both.
error-param-period = period must be 7d, 30d, 90d or all, got “{ $raw }”.
error-param-from-after-to = from must be on or before to.
error-param-sort = sort must be one of { $sorts }, got “{ $raw }”.
error-param-label = label must be one of { $labels }, got “{ $raw }”.
error-param-number = { $key } must be a whole number from { $min } to { $max }, got “{ $raw }”.
error-param-limit = limit must be a positive number, got “{ $raw }”.
error-param-creation-bucket = Creation exports are by day or month.
error-param-bucket = bucket must be day, week or month, got “{ $raw }”.
error-param-day-required = day is required (YYYY-MM-DD).
error-streams-session = This browser already follows { $limit } live pages of this app. Close one of them, then reload this one.
error-streams-user = You already follow { $limit } live pages of this app across your browsers. Close one of them, then reload this one.
