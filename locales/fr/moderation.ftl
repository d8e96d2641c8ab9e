# Actions de modération : étiquettes et notes, comptes de confiance, listes de bots,
# bannissements en masse (docs/moderation.md).

label-trusted = de confiance
label-bot = bot
label-watch = à surveiller
batch-action-ban = bannissement
batch-action-timeout = exclusion temporaire
batch-action-unban = débannissement
result-pending = en attente
result-done = fait
result-already = déjà fait
result-refused = refusé par Twitch
result-skipped = ignoré
result-excluded = écarté
excluded-trusted = de confiance
excluded-broadcaster = le diffuseur
excluded-moderator = vous (le modérateur)
excluded-already_banned = déjà banni (par un lot précédent)
excluded-not_banned = non banni par un lot précédent
excluded-not_in_channel = jamais vu dans les captures de cette chaîne
batch-status-draft = aperçu
batch-status-running = en cours
batch-status-done = terminé
batch-status-stopped = arrêté

batch-stop-not-moderator = Twitch ne vous compte plus parmi les modérateurs de cette chaîne : le lot s'est arrêté.
batch-stop-scope = Votre autorisation Twitch ne permet plus de bannir (actions retirées) : le lot s'est arrêté.
batch-stop-reauth = Votre autorisation Twitch a pris fin : reconnectez-vous, puis lancez un nouveau lot.
batch-stop-twitch-unavailable = Twitch a échoué sans cesse : le lot s'est arrêté. Les comptes non atteints sont marqués ignorés.

# Étiquettes et notes
marks-title = Étiquettes et notes
marks-heading = Étiquettes et notes
marks-intro = Ce que vous avez écrit sur des comptes, gardé par identifiant Twitch pour les suivre à travers leurs changements de pseudo. Les comptes de confiance ne sont jamais signalés ni sanctionnés ; l'étiquette «{"\u00A0"}bot{"\u00A0"}» compte dans le score.
marks-search = Rechercher
marks-label = Étiquette
marks-any-label = Toutes les étiquettes
marks-search-button = Rechercher
marks-none = Aucune étiquette ni note pour l'instant.
marks-note = Note
marks-updated = Écrite
marks-remove = Retirer
marks-common-bot = bot de chat courant
marks-shared = partagée
marks-add-heading = Ajouter un compte par son pseudo
marks-add-button = Ajouter
marks-added = Enregistré.
marks-removed = Retiré.
mark-title = Votre étiquette et votre note
mark-by = Par { $by }, { $when }
mark-no-label = Aucune étiquette
mark-share = Partager avec
mark-share-nobody = Personne (moi seul)
mark-share-channel = Les autres modérateurs de { $channel }
mark-save = Enregistrer

# Listes de bots
lists-title = Listes de bots
lists-heading = Listes de bots
lists-intro = Des listes de comptes venues d'ailleurs (l'export d'un autre outil, une liste communautaire), avec leur provenance. Un compte d'une liste reçoit une raison portant le nom et la date de la liste, qui vaut les points de la liste — jamais un signalement à elle seule : les listes contiennent aussi des humains piratés.
lists-none = Aucune liste pour l'instant.
lists-name = Nom
lists-entries = Entrées
lists-points = Points
lists-imported-at = Importée
lists-delete = Supprimer
lists-import-heading = Importer une liste
lists-import-help = Un pseudo ou un identifiant Twitch par ligne, ou du CSV (la première cellule qui est un pseudo ou un identifiant). Importer de nouveau sous le même nom remplace la liste (une mise à jour).
lists-file = Fichier
lists-entries-field = Pseudos ou identifiants
lists-import-button = Importer
lists-imported = { $entries ->
    [one] { $entries } entrée importée
   *[other] { $entries } entrées importées
}{ $skipped ->
    [0] {""}
    [one] ; { $skipped } ligne n'était ni un pseudo ni un identifiant
   *[other] ; { $skipped } lignes n'étaient ni un pseudo ni un identifiant
}.
lists-deleted = Liste «{"\u00A0"}{ $name }{"\u00A0"}» supprimée, avec ses raisons.

# Agir sur des comptes
act-legend = Que faire sur Twitch
act-channel = Chaîne
act-action = Action
act-duration = Durée de l'exclusion (secondes)
act-also = Et aussi ces comptes (pseudos)
act-reason = Raison (facultative)
act-pick = Choisir
act-pick-account = Choisir { $login }
act-preview-flagged = Aperçu : tous les comptes signalés avec ces filtres ({ $count })
act-preview-picked = Aperçu : les comptes cochés
act-cohort-title = Agir sur cette cohorte
act-preview-cohort = Aperçu : les { $count } membres de la cohorte
act-day-title = Agir sur les comptes de ce jour
act-preview-day = Aperçu : les { $count } comptes créés ce jour-là
actions-enable = Activer les actions (consentement Twitch)
batches-title = Actions de modération
batches-none = Aucun bannissement, exclusion ou débannissement dans cette session.

# Un lot
batch-title = Action de modération
batch-heading = Action de modération{"\u00A0"}: { $action } sur { $channel }
batch-selection = Choisis : { $selection }
batch-duration = { $secs } secondes
batch-reason = raison : { $reason }
batch-undoes = Ce lot annule un lot précédent.
batch-status = État
batch-targets = comptes à traiter
batch-stopped = Arrêté : { $reason }
batch-confirm-heading = Confirmer
batch-nobody = Personne à traiter : tous les comptes choisis sont écartés (ci-dessous).
batch-type-count = Tapez { $count } pour confirmer : { $action } de { $count ->
    [one] { $count } compte
   *[other] { $count } comptes
}{"\u00A0"}:
batch-confirm-button = Confirmer : { $action }
batch-needs-consent = Pour agir via Twitch, l'application a besoin de votre accord pour bannir en votre nom. D'ici là, copiez la liste de bannissement dans le chat, ou téléchargez-la.
batch-ban-list = Liste de bannissement en commandes de chat (texte)
batch-csv = Comptes en CSV
batch-who = Qui sera traité
batch-twitch-id = Identifiant Twitch
batch-undo = Annuler : débannir ce que ce lot a banni
batch-undone-by = Annulé par un lot suivant
batch-results = Résultats
batch-result = Résultat
batch-why = Pourquoi
batch-left-out = Écartés
batch-nobody-left-out = Personne n'a été écarté.

selection-cohort = cohorte n°{"\u00A0"}{ $id }
selection-flagged = tous les comptes signalés
selection-flagged-filtered = tous les comptes signalés avec le filtre { $filter }
selection-day = les comptes créés le { $day }
selection-picked = { $count ->
    [one] { $count } compte choisi à la main
   *[other] { $count } comptes choisis à la main
}
selection-undo = ce qu'un lot précédent a banni
