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
error-twitch-down = Twitch is not answering right now. Try again in a minute.
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
