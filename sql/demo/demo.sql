-- demo.sql -- development-only data for relais.  NEVER load in production.
--
-- Loaded by scripts/run into an empty database right after the migrations:
--   psql -v ON_ERROR_STOP=1 --single-transaction -f sql/demo/demo.sql
-- Ids are identities the file cannot choose, so every reference is a
-- subquery on a natural key (course code, competence code, capacité
-- label, username...).  Running it twice fails on those keys, on purpose.
--
-- Accounts (password "relais-demo" for all three, argon2id hashes produced
-- by libsodium crypto_pwhash_str with OPSLIMIT/MEMLIMIT_INTERACTIVE and
-- checked with crypto_pwhash_str_verify):
--   admin   admin@demo.relais   admin
--   coordo  coordo@demo.relais  coordo
--   prof    prof@demo.relais    professeur
-- The institution, programme and competence codes are made up for the
-- demonstration; they follow Quebec conventions but are not an official
-- ministerial devis.


-- ---------------------------------------------------------------------------
-- Institution and programme
-- ---------------------------------------------------------------------------

INSERT INTO cegeps (nom, type, region)
VALUES ('Cégep de démonstration', 'Public', 'Capitale-Nationale');

INSERT INTO departments (nom, cegep_id)
SELECT 'Technologie du génie électrique', id
FROM cegeps WHERE nom = 'Cégep de démonstration';

INSERT INTO programmes_ministeriels (code, nom)
VALUES ('243.G0', 'Technologie du génie électrique : électronique programmable');

INSERT INTO programmes (nom, department_id, programme_ministeriel_id, cegep_id)
SELECT 'Technologie du génie électrique : électronique programmable',
       d.id, pm.id, c.id
FROM departments d
JOIN cegeps c ON c.id = d.cegep_id
JOIN programmes_ministeriels pm ON pm.code = '243.G0'
WHERE d.nom = 'Technologie du génie électrique'
  AND c.nom = 'Cégep de démonstration';

INSERT INTO fil_conducteur (programme_id, description, couleur)
SELECT p.id, v.description, v.couleur
FROM programmes p,
     (VALUES ('Électricité et mesures', '#1F77B4'),
	     ('Programmation et systèmes embarqués', '#FF7F0E'))
	AS v (description, couleur)
WHERE p.nom = 'Technologie du génie électrique : électronique programmable';


-- ---------------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------------

INSERT INTO users (username, email, password_hash, nom, prenom, role,
		   is_first_connexion, credits, cegep_id, department_id)
SELECT v.username, v.email, v.password_hash, v.nom, v.prenom, v.role,
       false, 10, d.cegep_id, d.id
FROM departments d,
     (VALUES
	('admin', 'admin@demo.relais',
	 '$argon2id$v=19$m=65536,t=2,p=1$Ej9EVeqdLTbthkPtFUVDOw$NSqvwjynrklhCsqflD+0d+Amyd41itJHfqqsNwow56A',
	 'Démo', 'Administration', 'admin'),
	('coordo', 'coordo@demo.relais',
	 '$argon2id$v=19$m=65536,t=2,p=1$LVH7mtjEANxklIaLF+sjRQ$ffgLN7SylCgbaYPDRi0tE1gSIPhwK60qVCaOVg/M8R4',
	 'Gagnon', 'Julien', 'coordo'),
	('prof', 'prof@demo.relais',
	 '$argon2id$v=19$m=65536,t=2,p=1$eBRarqcqSdyVAgT3ceAghw$mHG7/KznntCrHTBecvJXrw/IcaAkZIacnrl2JQu1MfE',
	 'Tremblay', 'Marie', 'professeur'))
	AS v (username, email, password_hash, nom, prenom, role)
WHERE d.nom = 'Technologie du génie électrique';

INSERT INTO user_programme (user_id, programme_id)
SELECT u.id, p.id
FROM users u, programmes p
WHERE u.username IN ('admin', 'coordo', 'prof')
  AND p.nom = 'Technologie du génie électrique : électronique programmable';

-- The 10 USD each account starts with, recorded like any admin credit so
-- that the ledger replays to the balance.
INSERT INTO usage_ledger (user_id, kind, delta, balance_after, actor_id,
			  route, note)
SELECT u.id, 'admin_credit', 10, 10, a.id, 'demo.sql',
       'Crédits de démonstration'
FROM users u, users a
WHERE u.username IN ('admin', 'coordo', 'prof') AND a.username = 'admin';


-- ---------------------------------------------------------------------------
-- Courses
-- ---------------------------------------------------------------------------

INSERT INTO cours (code, nom, nombre_unites, heures_theorie, heures_laboratoire,
		   heures_travail_maison, fil_conducteur_id)
SELECT v.code, v.nom, v.unites, v.t, v.l, v.m, f.id
FROM (VALUES
	('243-1N5-LI', 'Circuits électriques I', 2.33, 2, 3, 2,
	 'Électricité et mesures'),
	('243-2N5-LI', 'Circuits électriques II', 2.33, 2, 3, 2,
	 'Électricité et mesures'),
	('243-1P4-LI', 'Programmation de systèmes embarqués I', 2.00, 1, 3, 2,
	 'Programmation et systèmes embarqués'))
	AS v (code, nom, unites, t, l, m, fil)
JOIN fil_conducteur f ON f.description = v.fil;

INSERT INTO cours_programme (cours_id, programme_id, session)
SELECT c.id, p.id, v.session
FROM (VALUES ('243-1N5-LI', 1), ('243-2N5-LI', 2), ('243-1P4-LI', 1))
	AS v (code, session)
JOIN cours c ON c.code = v.code
CROSS JOIN programmes p
WHERE p.nom = 'Technologie du génie électrique : électronique programmable';

-- Circuits II needs Circuits I with at least 50 % (préalable relatif);
-- Circuits I and the first programming course are taken together.
INSERT INTO cours_prealable (cours_id, cours_prealable_id, note_necessaire)
SELECT c.id, p.id, 50
FROM cours c, cours p
WHERE c.code = '243-2N5-LI' AND p.code = '243-1N5-LI';

INSERT INTO cours_corequis (cours_id, cours_corequis_id)
SELECT c.id, q.id
FROM cours c, cours q
WHERE c.code = '243-1N5-LI' AND q.code = '243-1P4-LI';


-- ---------------------------------------------------------------------------
-- Competences, elements, criteria, logigramme
-- ---------------------------------------------------------------------------

INSERT INTO competences (programme_id, code, nom, criteria_de_performance,
			 contexte_de_realisation)
SELECT p.id, v.code, v.nom, v.criteres, v.contexte
FROM programmes p,
     (VALUES
	('0Y01', 'Analyser des circuits électriques',
	 '<ul><li>Utilisation correcte des lois de l''électricité</li><li>Exactitude des calculs</li><li>Utilisation de la terminologie appropriée</li></ul>',
	 '<ul><li>À partir de schémas électriques</li><li>À l''aide d''une calculatrice et d''un logiciel de simulation</li></ul>'),
	('0Y02', 'Programmer des systèmes embarqués',
	 '<ul><li>Respect du cahier des charges</li><li>Fonctionnement correct du programme</li><li>Clarté du code</li></ul>',
	 '<ul><li>À partir d''un cahier des charges</li><li>À l''aide d''un environnement de développement et d''une carte à microcontrôleur</li></ul>'),
	('0Y03', 'Effectuer des mesures électriques',
	 '<ul><li>Choix judicieux des instruments</li><li>Respect des règles de santé et de sécurité</li><li>Exactitude des mesures</li></ul>',
	 '<ul><li>En laboratoire</li><li>À l''aide d''un multimètre, d''un oscilloscope et d''un générateur de fonctions</li></ul>'))
	AS v (code, nom, criteres, contexte)
WHERE p.nom = 'Technologie du génie électrique : électronique programmable';

INSERT INTO competence_programme (competence_id, programme_id)
SELECT c.id, c.programme_id FROM competences c;

INSERT INTO element_competence (competence_id, nom)
SELECT c.id, v.nom
FROM (VALUES
	('0Y01', 1, 'Analyser des circuits résistifs en courant continu'),
	('0Y01', 2, 'Analyser des circuits en régime alternatif sinusoïdal'),
	('0Y01', 3, 'Interpréter des schémas électriques'),
	('0Y02', 1, 'Concevoir l''algorithme'),
	('0Y02', 2, 'Coder le programme'),
	('0Y02', 3, 'Déverminer le programme'),
	('0Y03', 1, 'Choisir les instruments de mesure'),
	('0Y03', 2, 'Effectuer les mesures'),
	('0Y03', 3, 'Interpréter les résultats de mesure'))
	AS v (competence, ord, nom)
JOIN competences c ON c.code = v.competence
ORDER BY v.competence, v.ord;

INSERT INTO element_competence_criteria (element_competence_id, criteria)
SELECT e.id, v.criteria
FROM (VALUES
	('Analyser des circuits résistifs en courant continu', 'Application correcte de la loi d''Ohm et des lois de Kirchhoff'),
	('Analyser des circuits résistifs en courant continu', 'Calcul exact des tensions, courants et puissances'),
	('Analyser des circuits en régime alternatif sinusoïdal', 'Calcul exact des impédances'),
	('Analyser des circuits en régime alternatif sinusoïdal', 'Représentation correcte des phaseurs'),
	('Interpréter des schémas électriques', 'Reconnaissance correcte des symboles normalisés'),
	('Concevoir l''algorithme', 'Décomposition logique du problème'),
	('Coder le programme', 'Respect des conventions de codage'),
	('Déverminer le programme', 'Utilisation méthodique du débogueur'),
	('Choisir les instruments de mesure', 'Choix d''instruments adaptés à la grandeur à mesurer'),
	('Effectuer les mesures', 'Branchement correct des instruments'),
	('Effectuer les mesures', 'Respect des règles de sécurité'),
	('Interpréter les résultats de mesure', 'Comparaison pertinente entre valeurs mesurées et calculées'))
	AS v (element, criteria)
JOIN element_competence e ON e.nom = v.element;

-- Circuits I develops 0Y01 and reaches 0Y03; Circuits II reaches 0Y01 and
-- reuses 0Y03; the programming course develops 0Y02.
INSERT INTO element_competence_par_cours (cours_id, element_competence_id,
					  status)
SELECT co.id, e.id, v.status
FROM (VALUES
	('243-1N5-LI', '0Y01', 'Développé significativement'),
	('243-1N5-LI', '0Y03', 'Atteint'),
	('243-2N5-LI', '0Y01', 'Atteint'),
	('243-2N5-LI', '0Y03', 'Réinvesti'),
	('243-1P4-LI', '0Y02', 'Développé significativement'))
	AS v (cours, competence, status)
JOIN cours co ON co.code = v.cours
JOIN competences c ON c.code = v.competence
JOIN element_competence e ON e.competence_id = c.id;

-- The AC element is only touched upon in Circuits I.
UPDATE element_competence_par_cours ecp
SET status = 'Traité superficiellement'
FROM cours co, element_competence e
WHERE ecp.cours_id = co.id AND ecp.element_competence_id = e.id
  AND co.code = '243-1N5-LI'
  AND e.nom = 'Analyser des circuits en régime alternatif sinusoïdal';

INSERT INTO competence_par_cours (cours_id, competence_developpee_id,
				  competence_atteinte_id)
SELECT co.id, d.id, a.id
FROM (VALUES ('243-1N5-LI', '0Y01', '0Y03'),
	     ('243-2N5-LI', '0Y01', '0Y01'))
	AS v (cours, developpee, atteinte)
JOIN cours co ON co.code = v.cours
JOIN competences d ON d.code = v.developpee
JOIN competences a ON a.code = v.atteinte;


-- ---------------------------------------------------------------------------
-- Plan-cadre of 243-1N5-LI
-- ---------------------------------------------------------------------------

INSERT INTO plan_cadre (cours_id, place_intro, objectif_terminal,
	structure_intro, structure_activites_theoriques,
	structure_activites_pratiques, structure_activites_prevues,
	eval_evaluation_sommative, eval_nature_evaluations_sommatives,
	eval_evaluation_de_la_langue, eval_evaluation_sommatives_apprentissages,
	additional_info, ai_model, modified_by_id, modified_at)
SELECT c.id,
	$$Le cours « Circuits électriques I » est offert à la première session du programme Technologie du génie électrique : électronique programmable. Il initie la personne étudiante à l'analyse des circuits électriques en courant continu et aux mesures de base en laboratoire. Il prépare directement le cours « Circuits électriques II » et fournit les notions électriques nécessaires au cours « Programmation de systèmes embarqués I », suivi à la même session.$$,
	$$Au terme de ce cours, la personne étudiante sera en mesure d'analyser des circuits résistifs en courant continu et d'y effectuer des mesures électriques de façon sécuritaire et exacte.$$,
	$$Le cours comporte 2 heures de théorie et 3 heures de laboratoire par semaine pendant 15 semaines, auxquelles s'ajoutent environ 2 heures de travail personnel.$$,
	$$Exposés interactifs sur les lois fondamentales de l'électricité, résolution guidée de problèmes et simulations de circuits.$$,
	$$Laboratoires hebdomadaires en équipe de deux : montage de circuits sur plaquette, mesures au multimètre et à l'oscilloscope, comparaison avec les valeurs calculées.$$,
	$$Exercices de calcul, laboratoires avec rapport, simulations, quiz formatifs et une évaluation pratique individuelle.$$,
	$$L'évaluation sommative comprend un examen intermédiaire, des rapports de laboratoire, une évaluation pratique individuelle et un examen final intégrateur qui atteste l'atteinte de l'objectif terminal.$$,
	$$Examens théoriques individuels, rapports de laboratoire en équipe et évaluation pratique individuelle en laboratoire.$$,
	$$Conformément à la PIEA, la qualité du français est évaluée dans les rapports de laboratoire et peut entraîner une pénalité d'au plus 10 % de la note du travail.$$,
	$$Des quiz formatifs hebdomadaires et une rétroaction sur les premiers rapports de laboratoire permettent à la personne étudiante de situer sa progression avant les évaluations sommatives.$$,
	$$Cours de première session : prévoir une progression graduelle et beaucoup de pratique en laboratoire.$$,
	'gpt-5', u.id, now()
FROM cours c, users u
WHERE c.code = '243-1N5-LI' AND u.username = 'admin';

INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite, description_capacite,
				  ponderation_min, ponderation_max)
SELECT pc.id, v.capacite, v.description, v.pmin, v.pmax
FROM (VALUES
	(1, 'Analyser des circuits résistifs en courant continu',
	 'Déterminer les tensions, courants et puissances dans des circuits série, parallèles et mixtes à l''aide des lois fondamentales.',
	 35, 45),
	(2, 'Effectuer des mesures sur des circuits électriques',
	 'Mesurer de façon sécuritaire les grandeurs électriques d''un circuit et interpréter les écarts avec la théorie.',
	 30, 40),
	(3, 'Analyser des circuits simples en régime alternatif sinusoïdal',
	 'Décrire les grandeurs sinusoïdales et calculer l''impédance de circuits RC et RL simples.',
	 20, 30))
	AS v (ord, capacite, description, pmin, pmax)
CROSS JOIN plan_cadre pc
JOIN cours c ON c.id = pc.cours_id AND c.code = '243-1N5-LI'
ORDER BY v.ord;

INSERT INTO plan_cadre_capacite_savoirs_necessaires (capacite_id, texte)
SELECT cap.id, v.texte
FROM (VALUES
	('Analyser des circuits résistifs en courant continu', 1, 'Loi d''Ohm'),
	('Analyser des circuits résistifs en courant continu', 2, 'Lois de Kirchhoff sur les tensions et les courants'),
	('Analyser des circuits résistifs en courant continu', 3, 'Puissance et énergie électriques'),
	('Analyser des circuits résistifs en courant continu', 4, 'Théorèmes de Thévenin et de Norton'),
	('Effectuer des mesures sur des circuits électriques', 1, 'Fonctionnement du multimètre et de l''oscilloscope'),
	('Effectuer des mesures sur des circuits électriques', 2, 'Incertitude et erreur de mesure'),
	('Effectuer des mesures sur des circuits électriques', 3, 'Règles de santé et de sécurité en laboratoire'),
	('Analyser des circuits simples en régime alternatif sinusoïdal', 1, 'Amplitude, fréquence, période et phase'),
	('Analyser des circuits simples en régime alternatif sinusoïdal', 2, 'Réactance capacitive et inductive'),
	('Analyser des circuits simples en régime alternatif sinusoïdal', 3, 'Nombres complexes et phaseurs'))
	AS v (capacite, ord, texte)
JOIN plan_cadre_capacites cap ON cap.capacite = v.capacite
ORDER BY v.capacite, v.ord;

INSERT INTO plan_cadre_capacite_savoirs_faire (capacite_id, texte, cible,
					       seuil_reussite)
SELECT cap.id, v.texte, v.cible, v.seuil
FROM (VALUES
	('Analyser des circuits résistifs en courant continu', 1,
	 'Calculer la résistance équivalente d''un réseau de résistances',
	 'Calcule sans erreur la résistance équivalente de réseaux mixtes complexes en justifiant chaque étape.',
	 'Calcule correctement la résistance équivalente d''un réseau série-parallèle simple.'),
	('Analyser des circuits résistifs en courant continu', 2,
	 'Appliquer les lois de Kirchhoff',
	 'Écrit et résout un système d''équations de mailles ou de nœuds pour un circuit à plusieurs sources.',
	 'Applique correctement les lois de Kirchhoff à un circuit à une source.'),
	('Analyser des circuits résistifs en courant continu', 3,
	 'Déterminer l''équivalent de Thévenin d''un circuit',
	 'Détermine l''équivalent de Thévenin et l''utilise pour calculer la puissance maximale transférable.',
	 'Détermine la tension et la résistance de Thévenin d''un circuit simple.'),
	('Effectuer des mesures sur des circuits électriques', 1,
	 'Mesurer la tension, le courant et la résistance au multimètre',
	 'Choisit le calibre et le branchement appropriés et obtient des mesures exactes du premier coup.',
	 'Obtient des mesures exactes avec un branchement correct, au besoin après une vérification.'),
	('Effectuer des mesures sur des circuits électriques', 2,
	 'Visualiser un signal à l''oscilloscope',
	 'Règle l''oscilloscope de façon autonome et mesure amplitude, période et déphasage.',
	 'Affiche un signal stable et en mesure l''amplitude et la période.'),
	('Effectuer des mesures sur des circuits électriques', 3,
	 'Comparer les valeurs mesurées aux valeurs calculées',
	 'Explique les écarts à l''aide de l''incertitude de mesure et des tolérances des composants.',
	 'Calcule l''écart en pourcentage et juge s''il est acceptable.'),
	('Analyser des circuits simples en régime alternatif sinusoïdal', 1,
	 'Calculer l''impédance d''un circuit RC ou RL série',
	 'Calcule l''impédance sous forme polaire et rectangulaire et en déduit le déphasage.',
	 'Calcule le module de l''impédance d''un circuit RC ou RL série.'),
	('Analyser des circuits simples en régime alternatif sinusoïdal', 2,
	 'Représenter des tensions et des courants par des phaseurs',
	 'Trace un diagramme de phaseurs complet et cohérent avec les calculs.',
	 'Trace le phaseur de la tension et du courant d''un circuit simple.'))
	AS v (capacite, ord, texte, cible, seuil)
JOIN plan_cadre_capacites cap ON cap.capacite = v.capacite
ORDER BY v.capacite, v.ord;

INSERT INTO plan_cadre_capacite_moyens_evaluation (capacite_id, texte)
SELECT cap.id, v.texte
FROM (VALUES
	('Analyser des circuits résistifs en courant continu', 1, 'Examen théorique individuel'),
	('Analyser des circuits résistifs en courant continu', 2, 'Rapports de laboratoire'),
	('Effectuer des mesures sur des circuits électriques', 1, 'Évaluation pratique individuelle en laboratoire'),
	('Effectuer des mesures sur des circuits électriques', 2, 'Grille d''observation en laboratoire'),
	('Analyser des circuits simples en régime alternatif sinusoïdal', 1, 'Examen final intégrateur'),
	('Analyser des circuits simples en régime alternatif sinusoïdal', 2, 'Exercices de simulation'))
	AS v (capacite, ord, texte)
JOIN plan_cadre_capacites cap ON cap.capacite = v.capacite
ORDER BY v.capacite, v.ord;

INSERT INTO plan_cadre_savoir_etre (plan_cadre_id, texte)
SELECT pc.id, v.texte
FROM (VALUES (1, 'Faire preuve de rigueur dans les calculs et les mesures'),
	     (2, 'Respecter les règles de santé et de sécurité en laboratoire'),
	     (3, 'Collaborer efficacement avec sa ou son partenaire de laboratoire'),
	     (4, 'Faire preuve d''autonomie dans l''organisation de son travail'))
	AS v (ord, texte)
CROSS JOIN plan_cadre pc
JOIN cours c ON c.id = pc.cours_id AND c.code = '243-1N5-LI'
ORDER BY v.ord;

INSERT INTO plan_cadre_objets_cibles (plan_cadre_id, texte, description)
SELECT pc.id, v.texte, v.description
FROM (VALUES
	(1, 'Circuits résistifs', 'Circuits série, parallèles et mixtes alimentés en courant continu.'),
	(2, 'Instruments de mesure', 'Multimètre, oscilloscope, générateur de fonctions et alimentation de laboratoire.'))
	AS v (ord, texte, description)
CROSS JOIN plan_cadre pc
JOIN cours c ON c.id = pc.cours_id AND c.code = '243-1N5-LI'
ORDER BY v.ord;

INSERT INTO plan_cadre_cours_relies (plan_cadre_id, texte, description)
SELECT pc.id, '243-1P4-LI Programmation de systèmes embarqués I',
       'Les notions de tension, de courant et de résistance servent au branchement des capteurs et des sorties d''une carte à microcontrôleur.'
FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id
WHERE c.code = '243-1N5-LI';

-- In EDxo this list holds the courses for which this one is a prerequisite.
INSERT INTO plan_cadre_cours_prealables (plan_cadre_id, texte, description)
SELECT pc.id, '243-2N5-LI Circuits électriques II',
       'Préalable relatif (note minimale de 50 %) : l''analyse en courant continu est réinvestie en régime alternatif.'
FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id
WHERE c.code = '243-1N5-LI';

INSERT INTO plan_cadre_cours_corequis (plan_cadre_id, texte, description)
SELECT pc.id, '243-1P4-LI Programmation de systèmes embarqués I',
       'Suivi à la même session : les laboratoires des deux cours utilisent le même matériel de mesure.'
FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id
WHERE c.code = '243-1N5-LI';

INSERT INTO plan_cadre_competences_developpees (plan_cadre_id, texte, description)
SELECT pc.id, '0Y01 Analyser des circuits électriques',
       'Le cours développe l''analyse des circuits en courant continu ; le régime alternatif est approfondi dans Circuits électriques II.'
FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id
WHERE c.code = '243-1N5-LI';

INSERT INTO plan_cadre_competences_certifiees (plan_cadre_id, texte, description)
SELECT pc.id, '0Y03 Effectuer des mesures électriques',
       'La compétence est atteinte dans ce cours et vérifiée par l''évaluation pratique individuelle.'
FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id
WHERE c.code = '243-1N5-LI';


-- ---------------------------------------------------------------------------
-- Plan de cours of 243-1N5-LI, session A25 (automne 2025)
-- ---------------------------------------------------------------------------

INSERT INTO plan_de_cours (cours_id, department_id, session, campus,
	nom_enseignant, telephone_enseignant, courriel_enseignant,
	bureau_enseignant, presentation_du_cours, objectif_terminal_du_cours,
	organisation_et_methodes, accomodement,
	evaluation_formative_apprentissages, evaluation_expression_francais,
	seuil_reussite, place_et_role_du_cours, materiel, modified_by_id,
	modified_at)
SELECT c.id, d.id, 'A25', 'Campus principal',
	'Marie Tremblay', '418 555-0142, poste 2145', 'prof@demo.relais',
	'D-2145',
	$$Bienvenue dans le cours Circuits électriques I. Ce cours vous initie à l'analyse des circuits en courant continu et aux mesures en laboratoire, bases de tout le programme.$$,
	$$Au terme de ce cours, vous serez en mesure d'analyser des circuits résistifs en courant continu et d'y effectuer des mesures électriques de façon sécuritaire et exacte.$$,
	$$Chaque semaine comporte 2 heures de théorie (exposés et exercices) et 3 heures de laboratoire en équipe de deux. Les notes de cours et les protocoles sont déposés sur Moodle.$$,
	$$Les personnes étudiantes ayant droit à des mesures d'accommodement doivent présenter leur plan d'intervention au Service d'aide à l'intégration des élèves dès le début de la session.$$,
	$$Un quiz formatif en ligne est proposé chaque semaine ; les deux premiers rapports de laboratoire reçoivent une rétroaction détaillée avant d'être notés.$$,
	$$La qualité du français est évaluée dans les rapports de laboratoire selon la PIEA : jusqu'à 10 % de la note du rapport.$$,
	$$La note de passage est de 60 %. L'examen final doit aussi être réussi à 50 % pour réussir le cours.$$,
	$$Cours de première session, préalable au cours Circuits électriques II.$$,
	$$Calculatrice scientifique, plaquette de montage, trousse de composants du département, lunettes de sécurité.$$,
	u.id, now()
FROM cours c, departments d, users u
WHERE c.code = '243-1N5-LI' AND d.nom = 'Technologie du génie électrique'
  AND u.username = 'prof';

INSERT INTO plan_de_cours_calendrier (plan_de_cours_id, semaine, sujet,
				      activites, travaux_hors_classe,
				      evaluations)
SELECT pdc.id, v.semaine, v.sujet, v.activites, v.travaux, v.evaluations
FROM (VALUES
	(1, 'Grandeurs électriques et sécurité', 'Présentation du cours ; visite du laboratoire', 'Lire le chapitre 1', NULL),
	(2, 'Loi d''Ohm', 'Exercices ; laboratoire 1 : le multimètre', 'Exercices 2.1 à 2.15', NULL),
	(3, 'Circuits série', 'Laboratoire 2 : diviseur de tension', 'Rapport du laboratoire 2', 'Rapport 1'),
	(4, 'Circuits parallèles', 'Laboratoire 3 : diviseur de courant', 'Exercices du chapitre 4', NULL),
	(5, 'Circuits mixtes', 'Révision ; examen 1', 'Préparer l''examen', 'Examen 1 (20 %)'),
	(6, 'Lois de Kirchhoff', 'Méthode des mailles ; laboratoire 4', 'Exercices du chapitre 6', NULL),
	(7, 'Méthode des nœuds', 'Simulation de circuits', 'Rapport du laboratoire 4', 'Rapport 2'),
	(8, 'Théorèmes de Thévenin et de Norton', 'Laboratoire 5 : équivalent de Thévenin', 'Exercices du chapitre 8', NULL),
	(9, 'Semaine de lecture', NULL, 'Rattrapage et révision', NULL),
	(10, 'Puissance et transfert maximal', 'Laboratoire 6', 'Rapport du laboratoire 6', 'Rapport 3'),
	(11, 'L''oscilloscope', 'Laboratoire 7 : signaux périodiques', 'Exercices sur l''oscilloscope', NULL),
	(12, 'Grandeurs sinusoïdales', 'Laboratoire 8 : mesure de déphasage', 'Rapport du laboratoire 8', 'Rapport 4'),
	(13, 'Réactance et impédance', 'Évaluation pratique individuelle', 'Préparer l''évaluation pratique', 'Évaluation pratique (15 %)'),
	(14, 'Phaseurs et circuits RC/RL', 'Exercices intégrateurs', 'Révision générale', NULL),
	(15, 'Synthèse', 'Examen final', NULL, 'Examen final (35 %)'))
	AS v (semaine, sujet, activites, travaux, evaluations)
CROSS JOIN plan_de_cours pdc
JOIN cours c ON c.id = pdc.cours_id AND c.code = '243-1N5-LI'
WHERE pdc.session = 'A25'
ORDER BY v.semaine;

INSERT INTO plan_de_cours_mediagraphie (plan_de_cours_id,
					reference_bibliographique)
SELECT pdc.id, v.ref
FROM (VALUES
	(1, 'BOYLESTAD, Robert L. Introductory Circuit Analysis, 14e éd., Pearson, 2023.'),
	(2, 'WILDI, Théodore et Gilbert SYBILLE. Électrotechnique, 4e éd., De Boeck, 2005.'),
	(3, 'Notes de cours et protocoles de laboratoire, Département de technologie du génie électrique, 2025.'))
	AS v (ord, ref)
CROSS JOIN plan_de_cours pdc
JOIN cours c ON c.id = pdc.cours_id AND c.code = '243-1N5-LI'
WHERE pdc.session = 'A25'
ORDER BY v.ord;

INSERT INTO plan_de_cours_disponibilite_enseignant (plan_de_cours_id,
	jour_semaine, plage_horaire, lieu)
SELECT pdc.id, v.jour, v.plage, v.lieu
FROM (VALUES (1, 'Lundi', '13 h à 15 h', 'Bureau D-2145'),
	     (2, 'Jeudi', '10 h à 12 h', 'Laboratoire D-1120'))
	AS v (ord, jour, plage, lieu)
CROSS JOIN plan_de_cours pdc
JOIN cours c ON c.id = pdc.cours_id AND c.code = '243-1N5-LI'
WHERE pdc.session = 'A25'
ORDER BY v.ord;

INSERT INTO plan_de_cours_evaluations (plan_de_cours_id, titre_evaluation,
				       description, semaine)
SELECT pdc.id, v.titre, v.description, v.semaine
FROM (VALUES
	('Examen 1 — Circuits résistifs', 'Examen individuel sur les circuits série, parallèles et mixtes.', 5),
	('Rapports de laboratoire', 'Quatre rapports rédigés en équipe (laboratoires 2, 4, 6 et 8).', 12),
	('Évaluation pratique individuelle', 'Montage et mesures d''un circuit imposé, en laboratoire.', 13),
	('Examen final', 'Examen intégrateur portant sur l''ensemble du cours.', 15))
	AS v (titre, description, semaine)
CROSS JOIN plan_de_cours pdc
JOIN cours c ON c.id = pdc.cours_id AND c.code = '243-1N5-LI'
WHERE pdc.session = 'A25'
ORDER BY v.semaine;

-- Weights per capacité: C1 20+5+15 = 40, C2 25+15 = 40, C3 20, total 100,
-- each within the plan-cadre's min/max.
INSERT INTO plan_de_cours_evaluations_capacites (evaluation_id, capacite_id,
						 ponderation)
SELECT ev.id, cap.id, v.ponderation
FROM (VALUES
	('Examen 1 — Circuits résistifs', 'Analyser des circuits résistifs en courant continu', '20 %'),
	('Rapports de laboratoire', 'Analyser des circuits résistifs en courant continu', '5 %'),
	('Rapports de laboratoire', 'Effectuer des mesures sur des circuits électriques', '25 %'),
	('Évaluation pratique individuelle', 'Effectuer des mesures sur des circuits électriques', '15 %'),
	('Examen final', 'Analyser des circuits résistifs en courant continu', '15 %'),
	('Examen final', 'Analyser des circuits simples en régime alternatif sinusoïdal', '20 %'))
	AS v (evaluation, capacite, ponderation)
JOIN plan_de_cours_evaluations ev ON ev.titre_evaluation = v.evaluation
JOIN plan_de_cours pdc ON pdc.id = ev.plan_de_cours_id AND pdc.session = 'A25'
JOIN plan_cadre_capacites cap ON cap.capacite = v.capacite
JOIN plan_cadre pc ON pc.id = cap.plan_cadre_id AND pc.cours_id = pdc.cours_id;

-- A six-level grid for the practical evaluation, so the grid pages have
-- something to show.
INSERT INTO evaluation_savoirfaire (evaluation_id, savoir_faire_id, capacite_id,
	selected, level1_description, level2_description, level3_description,
	level4_description, level5_description, level6_description)
SELECT ev.id, sf.id, cap.id, true, v.l1, v.l2, v.l3, v.l4, v.l5, v.l6
FROM (VALUES
	('Mesurer la tension, le courant et la résistance au multimètre',
	 'Aucune mesure effectuée.',
	 'Branchement incorrect de l''instrument ; mesures inutilisables.',
	 'Mesures partiellement exactes ; calibre souvent inadéquat.',
	 'Mesures exactes avec un branchement correct, après une vérification.',
	 'Mesures exactes et bien documentées, calibre approprié.',
	 'Choix du calibre et du branchement autonome ; mesures exactes du premier coup.'),
	('Comparer les valeurs mesurées aux valeurs calculées',
	 'Aucune comparaison.',
	 'Comparaison absente ou erronée pour la plupart des grandeurs.',
	 'Écarts calculés, mais jugement absent ou injustifié.',
	 'Écart en pourcentage calculé et jugé acceptable ou non.',
	 'Écarts expliqués par au moins une source d''erreur pertinente.',
	 'Écarts expliqués par l''incertitude de mesure et les tolérances des composants.'))
	AS v (savoir_faire, l1, l2, l3, l4, l5, l6)
JOIN plan_cadre_capacite_savoirs_faire sf ON sf.texte = v.savoir_faire
JOIN plan_cadre_capacites cap ON cap.id = sf.capacite_id
JOIN plan_de_cours_evaluations ev
	ON ev.titre_evaluation = 'Évaluation pratique individuelle';
