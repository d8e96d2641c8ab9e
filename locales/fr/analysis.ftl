# Les pages d'analyse : tableau de bord, jour de création, cohorte, compte.

analysis-title = Analyse
filter-no-channel = Aucune chaîne capturée pour l'instant.
filter-none-ticked = (aucune cochée : toutes)
filter-created = Comptes créés
filter-period = Période
filter-any-time = à n'importe quelle date
filter-last-7 = ces 7 derniers jours
filter-last-30 = ces 30 derniers jours
filter-last-90 = ces 90 derniers jours
filter-or-between = ou entre le
filter-from = Du
filter-and = et le
filter-to = Au
filter-apply = Appliquer
filter-clear = Effacer
kpi-key-figures = Chiffres clés
kpi-young-7 = de moins de 7 jours à leur première apparition
kpi-young-30 = de moins de 30 jours
kpi-flagged = signalés (score ≥ { $threshold }), { $share }
kpi-trusted = de confiance (jamais signalés)
kpi-enriched = enrichis
kpi-last-capture = dernière capture
cohorts-title = Cohortes
cohorts-intro = Des comptes créés ensemble, regroupés avec ce qu'ils ont en commun. Une cohorte de bots se ressemble en tant que groupe — par le profil ou le pseudo, et par sa façon d'arriver et de repartir — et sa force s'ajoute au score de chaque membre ; une foule a été créée ensemble mais est par ailleurs aussi variée que tout le monde (un jour de lancement, une classe) et n'ajoute rien. Les plus fortes et les plus grandes d'abord.
cohorts-none = Aucun groupe de comptes créés ensemble ne se démarque.
cohorts-none-filtered = Aucun groupe de comptes créés ensemble ne se démarque avec ce filtre.
cohort-name = Cohorte n° { $id }
cohort-of-total = { $count ->
    [one] (sur { $count } dans la session)
   *[other] (sur { $count } dans la session)
}
cohort-chart-label = Dates de création des membres et membres présents à chaque capture
cohort-show-members = Voir les membres
cohorts-more = { $count ->
    [one] Encore { $count } cohorte dans l'
   *[other] Encore { $count } cohortes dans l'
}
cohorts-export = export des cohortes.
cohort-kind-bot = cohorte de bots · force { $strength }
cohort-kind-crowd = foule · rien d'autre en commun
cohort-kind-crowd-title = Créés ensemble, mais ils arrivent, repartent et se présentent aussi indépendamment que tout le monde : aucun point.
exports-intro = Télécharger (avec ce filtre) :
export-accounts-csv = comptes CSV
export-accounts-json = comptes JSON
export-cohorts-csv = cohortes CSV
export-cohorts-json = cohortes JSON
export-creation-csv = jours de création CSV
export-creation-json = jours de création JSON
export-timeline-csv = chronologie CSV
export-timeline-json = chronologie JSON
analysis-no-match-filter = Aucun compte ne correspond à ce filtre —
analysis-no-account = Aucun compte pour l'instant — capturez une chaîne depuis la page
chart-timeline-title = Chatteurs et spectateurs au fil du temps
chart-timeline-label = Chatteurs et spectateurs à chaque capture, par chaîne
chart-timeline-nojs = Le graphique nécessite JavaScript ; l'export de la chronologie contient les mêmes chiffres.
chart-creation-title = Dates de création des comptes
chart-group-by = Regrouper par
bucket-day = Jour
bucket-week = Semaine
bucket-month = Mois
chart-creation-help = Les barres rouges sont des vagues : bien plus de comptes créés ce jour-là que les jours voisins (la courbe). Cliquez sur un jour pour voir ses comptes.
chart-creation-label = Comptes par date de création, avec la référence attendue
chart-creation-nojs = Le graphique nécessite JavaScript ; l'export des jours de création contient les mêmes chiffres.
chart-scores-title = Scores de suspicion
chart-scores-label = Nombre de comptes par tranche de score
chart-needs-js = Le graphique nécessite JavaScript.
top-days-title = Jours de création les plus chargés
top-days-none = Aucune date de création connue pour l'instant : l'enrichissement les renseigne après une capture.
col-day = Jour
col-accounts = Comptes
col-share = Part
col-expected = Attendus
col-excess = Excédent
col-in-bot-cohort = Dans une cohorte de bots
badge-wave = vague
badge-burst-crowd = pic, sans arrivée commune
badge-burst-crowd-title = Bien plus de comptes que d'habitude ont été créés ce jour-là, mais aucun n'appartient à une cohorte de bots : ils ne sont ni arrivés, ni repartis ensemble, et ne se ressemblent pas. Sans doute une foule de vraies personnes.
top-day-bot-cohort = { $count } (cohorte n° { $id })
none = aucun
unknown = inconnue
show-accounts = Voir les comptes
flagged-title = Comptes signalés
flagged-intro = Comptes dont le score atteint { $threshold } ou plus, du plus élevé au plus bas. Chaque point a sa raison ; un score invite à regarder, ce n'est pas un verdict.
flagged-none = Aucun compte n'atteint le seuil.
flagged-none-filtered = Aucun compte n'atteint le seuil avec ce filtre.
col-account = Compte
col-created = Créé le
col-seen = Vu
col-score = Score
col-why = Pourquoi
seen-times-channels = { $times } fois sur { $channels ->
    [one] { $channels } chaîne
   *[other] { $channels } chaînes
}
pager = Page { $page } sur { $pages }
pager-previous = ← précédente
pager-next = suivante →
renames-title = Changements de pseudo
renames-none = Aucun compte vu sous plus d'un pseudo.
renames-none-filtered = Aucun compte vu sous plus d'un pseudo avec ce filtre.
col-account-now = Compte actuel
col-renames = Changements
col-names = Pseudos, du plus ancien au plus récent
login-reuse-title = Pseudos portés par plus d'un compte
day-title = Comptes créés le { $day }
day-heading = Comptes créés le { $day }
day-intro = { $count ->
    [one] { $count } compte vu dans cette session a été créé ce jour-là.
   *[other] { $count } comptes vus dans cette session ont été créés ce jour-là.
}
day-intro-filtered = { $count ->
    [one] { $count } compte vu dans cette session et correspondant au filtre a été créé ce jour-là.
   *[other] { $count } comptes vus dans cette session et correspondant au filtre ont été créés ce jour-là.
}
day-by-hour = Par heure de création (UTC)
col-hour = Heure
day-busiest-hour = Comparé à l'heure la plus chargée
col-first-seen = Vu pour la première fois
col-last-seen = Vu pour la dernière fois
cohort-members = membres
cohort-members-filtered = membres correspondant au filtre
cohort-members-session = membres dans la session
cohort-strength = force (points ajoutés au score de chaque membre)
cohort-first-created = premier membre créé
cohort-last-created = dernier membre créé
cohort-crowd-explained = Une foule : ces comptes ont été créés à peu d'intervalle, mais ils arrivent, repartent et se présentent aussi indépendamment que tout le monde. Rien n'est ajouté à leur score.
cohort-members-title = Membres
count-renames = { $count ->
    [one] { $count } changement de pseudo
   *[other] { $count } changements de pseudo
}
count-times = { $count } fois
account-shown-as = affiché comme { $name }
account-score = score { $score }
account-missing = n'existe plus sur Twitch
account-twitch-id = Identifiant Twitch { $id }
account-created = compte créé le
account-first-seen = vu pour la première fois dans cette session
account-last-seen = vu pour la dernière fois
account-captures-seen = captures où il apparaît (dont { $offline } hors direct)
account-why = Pourquoi ce score
account-nothing = Rien ne ressort : score 0.
account-profile = Profil
profile-default-avatar = avatar par défaut
profile-own-avatar = avatar personnalisé
profile-avatar-unknown = avatar inconnu
profile-empty-bio = bio vide
profile-has-bio = bio renseignée
profile-bio-unknown = bio inconnue
account-names = Pseudos
col-login = Identifiant
col-display-name = Nom affiché
account-seen-in = Vu dans
col-capture = Capture
col-stream = Stream
stream-live = en direct

# Raids (EventSub, docs/live.md)
raids-title = Raids
raids-intro = Les raids vers vos chaînes, et qui est arrivé avec eux : les comptes que la première capture après le raid a vus pour la première fois, et combien sont jeunes, dans une cohorte de bots ou signalés. Un raid amical amène des gens ; un raid haineux amène une ferme.
raids-none = Aucun raid vers ces chaînes pendant la session.
raids-from = Depuis
raids-viewers = Spectateurs annoncés
raids-newcomers = Nouveaux comptes
raids-young = Jeunes
raids-in-bot-cohort = Dans une cohorte de bots
raids-flagged = Signalés
raids-no-capture = pas encore de capture après le raid
