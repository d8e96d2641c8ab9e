# Moderator actions: labels and notes, trusted accounts, bot lists, bulk bans (docs/moderation.md).

label-trusted = trusted
label-bot = bot
label-watch = watch
batch-action-ban = ban
batch-action-timeout = timeout
batch-action-unban = unban
result-pending = waiting
result-done = done
result-already = already done
result-refused = refused by Twitch
result-skipped = skipped
result-excluded = left out
excluded-trusted = trusted
excluded-broadcaster = the broadcaster
excluded-moderator = you (the moderator)
excluded-already_banned = already banned (by an earlier batch)
excluded-not_banned = not banned by an earlier batch
excluded-not_in_channel = not seen in this channel's captures
batch-status-draft = preview
batch-status-running = running
batch-status-done = finished
batch-status-stopped = stopped

batch-stop-not-moderator = Twitch no longer lists you as a moderator of this channel: the batch stopped.
batch-stop-scope = Your Twitch authorization no longer allows bans (actions were withdrawn): the batch stopped.
batch-stop-reauth = Your Twitch authorization ended: log in again, then start a new batch.
batch-stop-twitch-unavailable = Twitch kept failing: the batch stopped. Accounts not reached are listed as skipped.

# Labels and notes
marks-title = Labels & notes
marks-heading = Labels & notes
marks-intro = What you wrote about accounts, kept by Twitch id so it follows them through renames. Trusted accounts are never flagged and never acted on; a “bot” label counts in the score.
marks-search = Search
marks-label = Label
marks-any-label = Any label
marks-search-button = Search
marks-none = No label or note yet.
marks-note = Note
marks-updated = Written
marks-remove = Remove
marks-common-bot = common chat bot
marks-shared = shared
marks-add-heading = Add an account by login
marks-add-button = Add
marks-added = Saved.
marks-removed = Removed.
mark-title = Your label and note
mark-by = By { $by }, { $when }
mark-no-label = No label
mark-share = Share with
mark-share-nobody = Nobody (only me)
mark-share-channel = The other moderators of { $channel }
mark-save = Save

# Bot lists
lists-title = Bot lists
lists-heading = Bot lists
lists-intro = Lists of accounts from elsewhere (another tool's export, a community list), with where they came from. An account on a list gets a reason with the list's name and date, worth the list's points — never a flag on its own: lists also hold compromised humans.
lists-none = No list yet.
lists-name = Name
lists-entries = Entries
lists-points = Points
lists-imported-at = Imported
lists-delete = Delete
lists-import-heading = Import a list
lists-import-help = One login or Twitch id a line, or CSV (the first cell that is a login or an id). Importing again under the same name replaces the list (a refresh).
lists-file = File
lists-entries-field = Logins or ids
lists-import-button = Import
lists-imported = Imported { $entries ->
    [one] { $entries } entry
   *[other] { $entries } entries
}{ $skipped ->
    [0] {""}
    [one] ; { $skipped } line was neither a login nor an id
   *[other] ; { $skipped } lines were neither a login nor an id
}.
lists-deleted = Deleted the list “{ $name }” and its reasons.

# Acting on accounts
act-legend = What to do on Twitch
act-channel = Channel
act-action = Action
act-duration = Timeout duration (seconds)
act-also = Also these accounts (logins)
act-reason = Reason (optional)
act-pick = Pick
act-pick-account = Pick { $login }
act-preview-flagged = Preview: every flagged account under these filters ({ $count })
act-preview-picked = Preview: the ticked accounts
act-cohort-title = Act on this cohort
act-preview-cohort = Preview: the cohort's { $count } members
act-day-title = Act on this day's accounts
act-preview-day = Preview: the { $count } accounts created this day
actions-enable = Enable actions (Twitch consent)
batches-title = Moderator actions
batches-none = No ban, timeout or unban yet in this session.

# A batch
batch-title = Moderator action
batch-heading = Moderator action: { $action } in { $channel }
batch-selection = Chosen: { $selection }
batch-duration = { $secs } seconds
batch-reason = reason: { $reason }
batch-undoes = This batch undoes an earlier one.
batch-status = Status
batch-targets = accounts to act on
batch-stopped = Stopped: { $reason }
batch-confirm-heading = Confirm
batch-nobody = Nobody is left to act on: everyone chosen is left out (below).
batch-type-count = Type { $count } to confirm the { $action } of { $count ->
    [one] { $count } account
   *[other] { $count } accounts
}:
batch-confirm-button = Confirm the { $action }
batch-needs-consent = To act through Twitch, the app needs your consent to ban on your behalf. Until then, copy the ban list into chat, or download it.
batch-ban-list = Ban list as chat commands (text)
batch-csv = Accounts as CSV
batch-who = Who will be acted on
batch-twitch-id = Twitch id
batch-undo = Undo: unban what this batch banned
batch-undone-by = Undone by a later batch
batch-results = Results
batch-result = Result
batch-why = Why
batch-left-out = Left out
batch-nobody-left-out = Nobody was left out.

selection-cohort = cohort #{ $id }
selection-flagged = every flagged account
selection-flagged-filtered = every flagged account under the filter { $filter }
selection-day = the accounts created on { $day }
selection-picked = { $count ->
    [one] { $count } account picked by hand
   *[other] { $count } accounts picked by hand
}
selection-undo = what an earlier batch banned
