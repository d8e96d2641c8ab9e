# The activity page: the user's own audit log.

activity-title = Activity
activity-heading = Your activity
activity-none = Nothing yet.
col-when = When
col-what = What
activity-login = Logged in with Twitch
activity-logout = Logged out
activity-session-create = Started session “{ $name }”
activity-session-save = Saved session “{ $name }”
activity-session-resume = Resumed session “{ $name }”
activity-session-delete = Deleted session “{ $name }”
activity-session-expire = An unsaved session expired
activity-capture-request = Asked for a capture of { $channel }
activity-capture-complete = Capture of { $channel } finished: { $chatters ->
    [one] { $chatters } chatter
   *[other] { $chatters } chatters
}
activity-capture-fail = Capture of { $channel } failed: { $error }
activity-auto-stop = Auto-capture of { $channel } stopped: { $reason }
activity-rename = Rename seen: { $from } → { $to }
activity-token-invalidated = Twitch authorization ended: { $reason }
activity-export = Exported { $what }
activity-actions-enabled = Enabled moderator actions (Twitch consent for bans)
activity-mark-label = Labelled { $login } “{ $label }”
activity-mark-note = Wrote a note on { $login }
activity-mark-remove = Removed the label and note of { $login }
activity-list-import = Imported the bot list “{ $name }” ({ $entries ->
    [one] { $entries } entry
   *[other] { $entries } entries
})
activity-list-delete = Deleted the bot list “{ $name }”
activity-batch-confirm = Confirmed: { $action } of { $count ->
    [one] { $count } account
   *[other] { $count } accounts
} in { $channel }
activity-batch-account = { $login }: { $result }
activity-batch-done = Finished: { $action } in { $channel }
activity-batch-stopped = Stopped: { $action } in { $channel } — { $reason }
token-revoked-on-twitch = you disconnected the app on Twitch
