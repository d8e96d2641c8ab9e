# The analysis pages: dashboard, creation day, cohort, account.

analysis-title = Analysis
filter-no-channel = No channel captured yet.
filter-none-ticked = (none ticked: all)
filter-created = Accounts created
filter-period = Period
filter-any-time = any time
filter-last-7 = in the last 7 days
filter-last-30 = in the last 30 days
filter-last-90 = in the last 90 days
filter-or-between = or between
filter-from = From
filter-and = and
filter-to = To
filter-apply = Apply
filter-clear = Clear
kpi-key-figures = Key figures
kpi-young-7 = under 7 days old when first seen
kpi-young-30 = under 30 days old
kpi-flagged = flagged (score ≥ { $threshold }), { $share }
kpi-trusted = trusted (never flagged)
kpi-enriched = enriched
kpi-last-capture = last capture
cohorts-title = Cohorts
cohorts-intro = Accounts created together, grouped with what they share. A bot cohort is alike as a group — in profile or name, and in how it comes and goes — and its strength is added to each member's score; a crowd was created together but is otherwise as diverse as everyone (a launch day, a class) and adds nothing. Strongest and largest first.
cohorts-none = No group of accounts created together stands out.
cohorts-none-filtered = No group of accounts created together stands out with this filter.
cohort-name = Cohort #{ $id }
cohort-of-total = { $count ->
    [one] (of { $count } in the session)
   *[other] (of { $count } in the session)
}
cohort-chart-label = Members' creation times and members present per capture
cohort-show-members = Show members
cohorts-more = { $count ->
    [one] { $count } more cohort in the
   *[other] { $count } more cohorts in the
}
cohorts-export = cohorts export.
cohort-kind-bot = bot cohort · strength { $strength }
cohort-kind-crowd = crowd · nothing else shared
cohort-kind-crowd-title = Created together, but they arrive, leave and look as independently as everyone: no points.
exports-intro = Download (with this filter):
export-accounts-csv = accounts CSV
export-accounts-json = accounts JSON
export-cohorts-csv = cohorts CSV
export-cohorts-json = cohorts JSON
export-creation-csv = creation days CSV
export-creation-json = creation days JSON
export-timeline-csv = timeline CSV
export-timeline-json = timeline JSON
analysis-no-match-filter = No account matches this filter —
analysis-no-account = No account yet — capture a channel from
chart-timeline-title = Chatters and viewers over time
chart-timeline-label = Chatters and viewers per capture, per channel
chart-timeline-nojs = The chart needs JavaScript; the timeline export has the same figures.
chart-creation-title = Account creation dates
chart-group-by = Group by
bucket-day = Day
bucket-week = Week
bucket-month = Month
chart-creation-help = Bars in red are waves: far more accounts created that day than the days around it (the line). Click a day to see its accounts.
chart-creation-label = Accounts per creation date, with the expected baseline
chart-creation-nojs = The chart needs JavaScript; the creation export has the same figures.
chart-scores-title = Suspicion scores
chart-scores-label = How many accounts per score range
chart-needs-js = The chart needs JavaScript.
top-days-title = Top creation days
top-days-none = No creation date known yet: enrichment fills them in after a capture.
col-day = Day
col-accounts = Accounts
col-share = Share
col-expected = Expected
col-excess = Excess
col-in-bot-cohort = In a bot cohort
badge-wave = wave
badge-burst-crowd = burst, no shared arrival
badge-burst-crowd-title = Far more accounts than usual were created this day, but none of them is in a bot cohort: they did not arrive, leave or look alike. Likely a crowd of real people.
top-day-bot-cohort = { $count } (cohort #{ $id })
none = none
unknown = unknown
show-accounts = Show accounts
flagged-title = Flagged accounts
flagged-intro = Accounts scoring { $threshold } or more, highest first. Each point comes with its reason; a score is a signal to look, not a verdict.
flagged-none = No account reaches the threshold.
flagged-none-filtered = No account reaches the threshold with this filter.
col-account = Account
col-created = Created
col-seen = Seen
col-score = Score
col-why = Why
seen-times-channels = { $times }× in { $channels ->
    [one] { $channels } channel
   *[other] { $channels } channels
}
pager = Page { $page } of { $pages }
pager-previous = ← previous
pager-next = next →
renames-title = Renames
renames-none = No account seen under more than one name.
renames-none-filtered = No account seen under more than one name with this filter.
col-account-now = Account now
col-renames = Renames
col-names = Names, oldest first
login-reuse-title = Logins held by more than one account
day-title = Accounts created { $day }
day-heading = Accounts created on { $day }
day-intro = { $count ->
    [one] { $count } account seen in this session was created that day.
   *[other] { $count } accounts seen in this session were created that day.
}
day-intro-filtered = { $count ->
    [one] { $count } account seen in this session and matching the filter was created that day.
   *[other] { $count } accounts seen in this session and matching the filter were created that day.
}
day-by-hour = By hour of creation (UTC)
col-hour = Hour
day-busiest-hour = Compared with the busiest hour
col-first-seen = First seen
col-last-seen = Last seen
cohort-members = members
cohort-members-filtered = members matching the filter
cohort-members-session = members in the session
cohort-strength = strength (points added to each member's score)
cohort-first-created = first member created
cohort-last-created = last member created
cohort-crowd-explained = A crowd: these accounts were created close together, but they arrive, leave and look as independently as everyone else. Nothing is added to their scores.
cohort-members-title = Members
count-renames = { $count ->
    [one] { $count } rename
   *[other] { $count } renames
}
count-times = { $count }×
account-shown-as = shown as { $name }
account-score = score { $score }
account-missing = no longer on Twitch
account-twitch-id = Twitch id { $id }
account-created = account created
account-first-seen = first seen in this session
account-last-seen = last seen
account-captures-seen = captures seen in ({ $offline } while offline)
account-why = Why this score
account-nothing = Nothing stands out: score 0.
account-profile = Profile
profile-default-avatar = default avatar
profile-own-avatar = own avatar
profile-avatar-unknown = avatar unknown
profile-empty-bio = empty bio
profile-has-bio = has a bio
profile-bio-unknown = bio unknown
account-names = Names
col-login = Login
col-display-name = Display name
account-seen-in = Seen in
col-capture = Capture
col-stream = Stream
stream-live = live

# Raids (EventSub, docs/live.md)
raids-title = Raids
raids-intro = Raids into your channels, and who came with them: the accounts the first capture after the raid saw for the first time, and how many of them are young, in a bot cohort, or flagged. A friendly raid brings people; a hate raid brings a farm.
raids-none = No raid into these channels during the session.
raids-from = From
raids-viewers = Viewers announced
raids-newcomers = New accounts
raids-young = Young
raids-in-bot-cohort = In a bot cohort
raids-flagged = Flagged
raids-no-capture = no capture after it yet
