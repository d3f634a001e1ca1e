/*
 * programme.h: programme-level generation (EDxo's logigramme and grille
 * de cours), and the model settings every generation feature of issue 9
 * resolves the same way.  The task functions run in relais-worker; the
 * apply functions are what the generation program's write routes call.
 * docs/internals/programme.md.
 */
#ifndef RL_PROGRAMME_H
#define RL_PROGRAMME_H

#include <jansson.h>

#include "relais.h"

struct rl_task;

/* Task kinds (tasks.name). */
#define RL_TASK_LOGIGRAMME	"programme.logigramme"
#define RL_TASK_GRILLE		"programme.grille"

/*
 * Limits.  A Québec DEC has 6 sessions (AEC and bridging programmes a few
 * more); a session holds at most a dozen courses, a programme about 60
 * and a few dozen compétences.  The caps bound what one apply writes and
 * what a model answer may make us hold, with room to spare.
 *	RL_GRILLE_MAX_SESSIONS	sessions of a grille
 *	RL_GRILLE_MAX_COURSES	courses of a whole grille
 *	RL_GRILLE_MAX_FILS	fils conducteurs (EDxo asks for 3 to 6)
 *	RL_GRILLE_MAX_HOURS	total_hours a request may ask (a DEC is
 *				about 2,700 hours of formation spécifique)
 *	RL_GRILLE_NAME_MAX	course name, in characters (EDxo's cut)
 *	RL_GRILLE_FIL_MAX	fil description, in characters (EDxo's cut)
 *	RL_GRILLE_MAX_PREALABLES préalables kept per course (EDxo's rule)
 *	RL_LINKS_MAX		links of one logigramme (courses x
 *				compétences of a large programme)
 *	RL_PROGRAMME_ENUM_MAX	codes put in the links schema as enums;
 *				OpenAI strict mode takes at most 1000
 *				enum values per property
 *	RL_ADDITIONAL_INFO_MAX	additional_info of any generation request,
 *				in bytes: a paragraph of instructions, not a
 *				document
 */
#define RL_GRILLE_MAX_SESSIONS		12
#define RL_GRILLE_MAX_COURSES		200
#define RL_GRILLE_MAX_FILS		12
#define RL_GRILLE_MAX_HOURS		10000
#define RL_GRILLE_NAME_MAX		120
#define RL_GRILLE_FIL_MAX		200
#define RL_GRILLE_MAX_PREALABLES	2
/*
 * Weekly hours of one course (théorie, labo or maison) and its units:
 * a week has 168 hours, and (T+L+M)/3 cannot exceed it.  Past them a
 * grid is nonsense, and would overflow the columns' types.
 */
#define RL_GRILLE_WEEK_HOURS_MAX	168
#define RL_LINKS_MAX			5000
#define RL_PROGRAMME_ENUM_MAX		1000
#define RL_ADDITIONAL_INFO_MAX		(16 * 1024)


/*
 * Task functions.  Payloads: logigramme {programme_id, model?,
 * reasoning_effort?, verbosity?, additional_info?}; grille the same plus
 * total_hours, nb_sessions, total_units?.  Results are previews: nothing
 * is written until the apply call.
 */
enum rl_err	 rl_logigramme_task(struct rl_task *, json_t **,
		    struct rl_error *);
enum rl_err	 rl_grille_task(struct rl_task *, json_t **, struct rl_error *);

/*
 * POST /programme/<id>/links: links [{cours_id, competence_id, type}]
 * replace the programme's course-compétence statuses in one transaction.
 * A bad link is RL_EINVAL with e->where "links[i].field".  *answer: {ok,
 * updated, message}.
 */
enum rl_err	 rl_links_apply(long long programme_id, const json_t *links,
		    json_t **answer, struct rl_error *);
/*
 * POST /programme/<id>/grille/apply: grid {sessions, fils_conducteurs}
 * (grille_cours.json, the couleur pattern aside), mode "append" or
 * "overwrite".  Checks the grid, then writes it with rl_grille_write
 * (RL_GRILLE_ORDERED).  *answer: {ok, created: [{id, code, nom,
 * session}], mode}.
 */
enum rl_err	 rl_grille_apply(long long programme_id, const char *mode,
		    const json_t *grid, json_t **answer, struct rl_error *);

/*
 * The one writer of a programme's grille, for a generated grid
 * (rl_grille_apply) and an imported one (rl_import_grille_apply), in one
 * transaction.  grid, already checked by the caller: {sessions:
 * [{session, courses: [course]}], fils_conducteurs?: [{description,
 * couleur, cours: [key]}]}, a course {code?, nom, heures_theorie,
 * heures_laboratoire, heures_travail_maison (integers), nombre_unites,
 * prealables: [key or {cours: key, note: integer or null}], corequis:
 * [key]}.  A course's key is its code when it has one, else its name.
 * A course with a code is the programme's course of that code, updated,
 * or a new one; without, a new course coded <ministry code or P<id>>-NNN.
 * Each is placed in its session, then préalables (with their minimum
 * grade) and corequis between courses of the grid are added, then the
 * fils conducteurs.  Flags:
 *	RL_GRILLE_OVERWRITE	the programme's other courses are detached
 *	RL_GRILLE_ORDERED	EDxo's order for generated grids: at most
 *				RL_GRILLE_MAX_PREALABLES préalables, each
 *				from an earlier session; corequis from the
 *				same session (others are skipped)
 * *written: {cours: [{id, code, nom, session, created}], prealables,
 * corequis} (the links written).
 */
#define RL_GRILLE_OVERWRITE	0x1
#define RL_GRILLE_ORDERED	0x2
enum rl_err	 rl_grille_write(long long programme_id, unsigned int flags,
		    const json_t *grid, json_t **written, struct rl_error *);


/* The grille schema as sent upstream and validated (no pattern). */
json_t		*rl_grille_schema_json(void);

#endif
