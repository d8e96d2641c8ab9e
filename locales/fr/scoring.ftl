# Raisons du score de suspicion et preuves des cohortes (écrites par le service d'analyse, dans
# la langue du demandeur ; les codes restent stables dans les exports).

reason-cohort = Membre de la cohorte n°{"\u00A0"}{ $id } (force { $strength }){"\u00A0"}: { $evidence }
reason-young_at_first_sight = Âgé de { $age ->
    [one] { $age } jour
   *[other] { $age } jours
} seulement à sa première apparition ici (seuil{"\u00A0"}: { $threshold } jours).
reason-default_profile = Avatar par défaut et bio vide.
reason-repeated_renames = A changé { $renames } fois de pseudo pendant l'observation.
reason-always_present = Présent dans les { $captures } captures de ses chaînes.
reason-present_while_offline = Dans le chat alors que le stream était hors ligne ({ $captures ->
    [one] { $captures } capture
   *[other] { $captures } captures
}).
reason-multi_channel = Vu sur { $channels } de vos chaînes.
reason-missing = Twitch ne renvoie plus ce compte (suspendu ou supprimé).
reason-labelled_bot = Étiqueté «{"\u00A0"}bot{"\u00A0"}» par { $by } le { $date }.
reason-bot_list = Dans la liste «{"\u00A0"}{ $list }{"\u00A0"}», importée le { $date }.

evidence-created = { $members ->
    [one] { $members } compte
   *[other] { $members } comptes
}{"\u00A0"}; { $created } créés { $period } ({ $expected } attendu au rythme habituel de cette chaîne{ $bursts ->
    [1] {""}
   *[other] , en { $bursts } pics distincts
})
evidence-expected-fewer = moins de 1
evidence-expected-about = environ { $count }
evidence-period-day = le { $from }–{ $to } UTC
evidence-period-days = du { $from } au { $to } UTC
evidence-trait = { $share } { $what } (autres comptes{"\u00A0"}: { $baseline })
trait-default-avatar = avatar par défaut
trait-empty-bio = bio vide
trait-display-is-login = nom affiché = identifiant
trait-login-template = identifiant de forme `{ $example }`
trait-login-stem = identifiant `{ $example }` + chiffres
trait-arrival = apparus pour la première fois dans la capture du { $example }
trait-presence = présents ensemble ({ $captures ->
    [one] { $captures } capture
   *[other] { $captures } captures
}, du { $from } au { $to })
trait-present-while-offline = dans le chat hors direct
trait-multi-channel = sur plusieurs de vos chaînes
