# Communs à toutes les pages : la mise en page, les nombres, le choix de la langue.
# (docs/i18n.md : ajouter un message ; garder le fichier anglais au même niveau.)

brand = Chatters Analyser
product-name = Twitch Chatters Analyser
skip-to-content = Aller au contenu
footer = Des signaux, pas des verdicts. Les heures sont affichées dans votre fuseau horaire.
nav-main = Navigation principale
nav-channels = Chaînes
nav-sessions = Sessions
nav-activity = Activité
nav-marks = Étiquettes et notes
nav-lists = Listes de bots
log-out = Se déconnecter
language-switch = English
language-switch-title = Read this page in English

count-accounts = { $count ->
    [one] { $count } compte
   *[other] { $count } comptes
}
share-of-accounts = { $share } des comptes

landing-title = Qui est vraiment dans votre chat ?
landing-lead = Relevez les chatteurs des chaînes que vous modérez et voyez ce que le défilement d'une liste de spectateurs ne montre jamais : des vagues de comptes créés le même jour, des comptes tout neufs, des changements de pseudo, des spectateurs silencieux qui ne partent jamais — chaque fois avec ses raisons.
landing-permissions = L'application ne demande que deux autorisations à Twitch : lire la liste des chatteurs de votre chat et la liste des chaînes que vous modérez. Se déconnecter les révoque.
login-with-twitch = Se connecter avec Twitch
notice-login-required = Connectez-vous avec Twitch pour continuer.
notice-reauth = Votre autorisation Twitch a été retirée ou a expiré : vous avez été déconnecté. Reconnectez-vous pour continuer.
notice-logged-out = Vous êtes déconnecté. Votre autorisation Twitch a été révoquée pour cette application.

count-chatters = { $count ->
    [one] { $count } chatteur
   *[other] { $count } chatteurs
}
open = ouvrir
save = Enregistrer
minutes-short = min
# Typographie : espace insécable avant les deux-points.
punct-colon = {"\u00A0"}:
punct-semicolon = {"\u00A0"};
capture-status-queued = en attente
capture-status-running = en cours
capture-status-done = terminée
capture-status-failed = échouée
count-captures = { $count ->
    [one] { $count } capture
   *[other] { $count } captures
}
login-other-account = Utiliser un autre compte Twitch
