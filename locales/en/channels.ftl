# The channels page.

channels-title = Channels
channels-heading = Your channels
channels-intro = Your own channel and every channel you moderate.
channels-active-session = Captures go into your active session,
channels-first-capture = Your first capture starts a new session.
channels-none = Twitch lists no channel for you — not even your own. Try again in a minute.
channel-own = your channel
channel-live-viewers = { $count ->
    [one] Live · { $count } viewer
   *[other] Live · { $count } viewers
}
channel-offline = Offline
channel-last-capture = Last capture
channel-not-captured = Not captured yet.
capture-now = Capture now
auto-capture-every = Auto-capture every
auto-capture-interval = Minutes between captures
auto-capture-only-live = only while live
auto-stop-off = Turned off by you.
auto-stop-saved = Auto-capture stopped: the session was saved. Resume it to capture again.
auto-stop-expired = Auto-capture stopped: the session expired.
auto-stop-deleted = Auto-capture stopped: the session was deleted.
error-channel-id = “{ $id }” is not a Twitch channel id (digits only).
error-not-your-channel = You can only capture your own channel and channels you moderate; this one is neither.
error-interval = The interval must be a whole number of minutes from 1 to 1440, not “{ $value }”.
auto-stop-reauth = Auto-capture paused: your Twitch authorization ended. Log in again to resume it.
error-capture-limit = You already have { $limit } captures queued or running, the most one moderator may have at once (so that every moderator's captures move). Wait for one to finish, then capture again.
auto-mode-eventsub = Twitch tells us when this channel goes live or offline, and about raids (EventSub).
auto-mode-polling = Checked every { $minutes } min whether the channel is live (polling: EventSub is not set up).
