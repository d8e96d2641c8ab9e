# Reasons of the suspicion score and cohort evidence (written by the analysis service, in the
# requester's language; the codes stay stable in exports).

reason-cohort = Member of cohort #{ $id } (strength { $strength }): { $evidence }
reason-young_at_first_sight = Only { $age ->
    [one] { $age } day
   *[other] { $age } days
} old when first seen here (threshold: { $threshold } days).
reason-default_profile = Default avatar and empty bio.
reason-repeated_renames = Renamed { $renames } times while observed.
reason-always_present = Present in all { $captures } captures of its channels.
reason-present_while_offline = In chat while the stream was offline ({ $captures ->
    [one] { $captures } capture
   *[other] { $captures } captures
}).
reason-multi_channel = Seen in { $channels } of your channels.
reason-missing = Twitch no longer returns this account (suspended or deleted).
reason-labelled_bot = Labelled “bot” by { $by } on { $date }.
reason-bot_list = In the list “{ $list }”, imported { $date }.

evidence-created = { $members ->
    [one] { $members } account
   *[other] { $members } accounts
}; { $created } created { $period } ({ $expected } expected at this channel's usual pace{ $bursts ->
    [1] {""}
   *[other] , in { $bursts } separate bursts
})
evidence-expected-fewer = fewer than 1
evidence-expected-about = about { $count }
evidence-period-day = { $from }–{ $to } UTC
evidence-period-days = { $from } – { $to } UTC
evidence-trait = { $share } { $what } (others: { $baseline })
trait-default-avatar = default avatar
trait-empty-bio = empty bio
trait-display-is-login = display name = login
trait-login-template = login shaped `{ $example }`
trait-login-stem = login `{ $example }` + digits
trait-arrival = first seen in the capture of { $example }
trait-presence = present together ({ $captures ->
    [one] { $captures } capture
   *[other] { $captures } captures
}, { $from } to { $to })
trait-present-while-offline = in chat while offline
trait-multi-channel = in several of your channels
