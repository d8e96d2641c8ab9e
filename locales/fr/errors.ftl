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
error-twitch-down = Twitch ne répond pas pour le moment. Réessayez dans une minute.
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
