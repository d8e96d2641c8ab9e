# Pages d'erreur, erreurs JSON et problèmes de connexion.

error-status = Erreur { $status }
error-bad-request = Cette requête n'est pas valide
error-forbidden = Accès refusé
error-not-found = Page introuvable
error-not-found-message = Cette page n'existe pas, ou elle n'est pas à vous.
error-conflict = Impossible pour le moment
error-too-many = Doucement
error-too-many-message = Trop de tentatives de connexion depuis votre adresse. Attendez une minute avant de réessayer.
error-unavailable = Twitch est indisponible
error-internal = Une erreur est survenue
error-internal-message = L'erreur a été enregistrée. Réessayez ; si elle se reproduit, prévenez les personnes qui gèrent cette application.
error-not-moderator = Selon Twitch, vous n'êtes pas modérateur de cette chaîne.
error-twitch-down = Twitch ne répond pas pour le moment, ou les réglages Twitch de l'application sont en cours de modification. Rien n'est perdu : réessayez dans une minute.
error-other-site = Ce formulaire a été envoyé depuis un autre site.
error-csrf = Ce formulaire a expiré ou n'a pas été envoyé depuis cette application (contrôle CSRF). Rechargez la page et réessayez.
error-form-too-large = Le formulaire est trop volumineux.
error-form-unreadable = Le formulaire est illisible.
error-form-invalid = Le formulaire n'est pas valide : { $reason }.
error-unknown-language = « { $lang } » n'est pas une langue de cette application (en, fr).
action-channels = Retour à vos chaînes
action-sessions = Vos sessions
action-home = Accueil
action-try-again = Réessayer

json-error-login = Votre connexion a expiré. Rechargez la page et reconnectez-vous.
json-error-not-found = Introuvable, ou ce n'est pas à vous.
json-error-too-many = Trop de requêtes. Attendez une minute.
json-error-internal = Une erreur est survenue ; elle a été enregistrée.

login-again = Se reconnecter avec Twitch
login-incomplete = Lien de connexion incomplet
login-no-state = Twitch nous a renvoyé sans l'état de la connexion. Recommencez.
login-no-code = Twitch nous a renvoyé sans code. Recommencez.
login-cancelled = Connexion annulée
login-cancelled-message = Vous avez annulé sur la page de Twitch : vous n'êtes pas connecté. Rien n'a été partagé avec cette application.
login-refused-message = Twitch a refusé la connexion : { $reason }.
login-link-unusable = Ce lien de connexion n'est plus utilisable
login-link-unusable-message = Il a déjà servi, a expiré (une connexion doit aboutir en 10 minutes) ou a été ouvert dans un autre navigateur. Recommencez depuis ce navigateur.
login-refused = Twitch a refusé la connexion

# Paramètres des pages et du service d'analyse (le service répond lui aussi dans la langue de
# l'appelant).
error-day = « { $raw } » n'est pas un jour (AAAA-MM-JJ, p. ex. 2024-03-14).
error-twitch-user-id = « { $raw } » n'est pas un identifiant d'utilisateur Twitch (des chiffres).
error-cohort-id = « { $raw } » n'est pas un numéro de cohorte (des chiffres).
error-session-id = « { $raw } » n'est pas un identifiant de session (un UUID comme 0b6f…-…).
error-export-file = « { $raw } » n'est pas un export : accounts, cohorts, creation ou timeline, en .csv ou .json.
error-page = page doit être un nombre entier à partir de 1, et non « { $raw } ».
error-param-day = { $name } doit être une date comme 2024-03-14, et non « { $raw } ».
error-param-broadcaster = broadcaster_id doit contenir des identifiants Twitch (des chiffres).
error-param-period-and-range = Indiquez period ou from/to, pas les deux.
error-param-period = period doit valoir 7d, 30d, 90d ou all, et non « { $raw } ».
error-param-from-after-to = from doit être antérieur ou égal à to.
error-param-sort = sort doit être l'une des valeurs { $sorts }, et non « { $raw } ».
error-param-label = label doit être l'une des valeurs { $labels }, et non « { $raw } ».
error-param-number = { $key } doit être un nombre entier de { $min } à { $max }, et non « { $raw } ».
error-param-limit = limit doit être un nombre positif, et non « { $raw } ».
error-param-creation-bucket = Les exports des jours de création se font par jour ou par mois.
error-param-bucket = bucket doit valoir day, week ou month, et non « { $raw } ».
error-param-day-required = day est obligatoire (AAAA-MM-JJ).
error-streams-session = Ce navigateur suit déjà { $limit } pages en direct de cette application. Fermez-en une, puis rechargez celle-ci.
error-streams-user = Vous suivez déjà { $limit } pages en direct de cette application sur vos navigateurs. Fermez-en une, puis rechargez celle-ci.
