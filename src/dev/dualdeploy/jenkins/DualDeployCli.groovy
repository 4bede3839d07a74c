package dev.dualdeploy.jenkins

/**
 * The one place the steps in vars/ run the dualdeploy CLI from: it binds credentials around the call only, passes
 * every value as a DD_* environment variable to the fixed runner script (resources/dev/dualdeploy/dualdeploy.sh),
 * and reads the CLI's JSON result. No value is ever interpolated into a shell string.
 *
 * This file is Groovy in Jenkins' shared-library layout (src/<package>/...), next to the Java engine in
 * src/main/java; Jenkins compiles only the former, and Maven only the latter.
 */
class DualDeployCli implements Serializable {

    private static final long serialVersionUID = 1L
    /** The default of the side toggles' build parameters: the step's option, else the config, decides. */
    static final String AS_CONFIGURED = 'as configured'
    /** The step's own parameters; every other key is a config key, passed to the CLI to merge over the file. */
    private static final List<String> OWN = ['configFile', 'image', 'build', 'version', 'stages', 'legacy', 'kubernetes',
                                             'credentials', 'parameters', 'cli', 'stage', 'side', 'check', 'gate',
                                             'allowOutsideManifests', 'waitLock', 'to', 'next', 'revert', 'approval',
                                             'cloudflareTokenVariable']
    /** The variable a Cloudflare router's token_env names by default (the config's example). */
    static final String CLOUDFLARE_TOKEN = 'CF_API_TOKEN'
    /** The longest an approval may stay open, in minutes: the config's limit for approval: (30 days). */
    private static final int MAX_APPROVAL_MINUTES = 43200
    /** Names the token's variable must not take: the runner's own, and those the other credentials bind. */
    private static final List<String> TAKEN = ['PATH', 'HOME', 'KUBECONFIG', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']

    private final def steps
    private final Map options
    private String runner
    private String version

    DualDeployCli(def steps, Map options) {
        this.steps = steps
        this.options = options ?: [:]
        // Checked before any command runs, so that a bad value changes nothing; the CLI checks the range (0s to 1h).
        if (!isWaitLock(this.options.waitLock)) {
            steps.error("dualdeploy: waitLock: ${shown(this.options.waitLock)} is not a duration: digits and a unit (ms, s, m, h),"
                    + " such as '10m', from 0s to 1h")
        }
    }

    /** How long `deploy` and `rollback` wait for the stage's lease (`--wait-lock`); empty: they fail at once (exit 5). */
    String waitLock() {
        return options.waitLock ? options.waitLock.toString() : ''
    }

    /**
     * Runs `dualdeploy <command>`; returns its JSON result with `exitCode` set to the CLI's exit code. A stage or side
     * that is not a valid name fails here, before it becomes part of a result's file name.
     */
    Map run(String command, Map values, String name) {
        if (values.STAGE && !isName(values.STAGE)) {
            steps.error("dualdeploy: ${shown(values.STAGE)} is not a stage name: lower-case letters, digits and -, at most 63,"
                    + " starting and ending with a letter or digit (for example preprod)")
        }
        if (values.SIDE && !(values.SIDE.toString() in ['legacy', 'kubernetes', 'both'])) {
            steps.error("dualdeploy: ${shown(values.SIDE)} is not a side: legacy, kubernetes or both")
        }
        String result = ".dualdeploy/${name}.json"
        List env = environment(command, result, values)
        int status = 0
        steps.withEnv(env) {
            List bindings = credentials(command)
            if (bindings) {
                steps.withCredentials(bindings) {
                    status = steps.sh(script: script(), returnStatus: true, label: "dualdeploy ${command}")
                }
            } else {
                status = steps.sh(script: script(), returnStatus: true, label: "dualdeploy ${command}")
            }
        }
        // The runner writes an error result when the CLI left none; a result still missing, empty or not JSON (the
        // runner itself refused to run) fails here with a reason, never later inside a JSON parser.
        Map parsed = steps.fileExists(result) ? parse(steps.readFile(result)) : null
        if (parsed == null) {
            steps.error("dualdeploy ${command} failed (exit ${status}) and wrote no result; see the log above")
        }
        parsed.exitCode = status
        return parsed
    }

    /**
     * Fails the build with the CLI's own reason if the command did not succeed: the config's problems, one line each,
     * else the result's one-line reason or error.
     */
    Map check(Map result, String what) {
        if (result.exitCode != 0) {
            steps.error("dualdeploy ${what} failed (exit ${result.exitCode}): ${reason(result)}")
        }
        return result
    }

    /**
     * Fails the build unless `status` succeeded. Every exit but 0 fails: with `check: true`, DRIFT (3) and a side that
     * cannot be read (4) fail naming the stages and sides with what they run; any other exit (a missing config, a
     * platform that cannot be opened) fails with the CLI's reason, whether or not `check` was asked.
     */
    Map checkStatus(Map status, boolean checked) {
        if (checked && (status.exitCode == 3 || status.exitCode == 4) && status.stages) {
            steps.error("dualdeploy status --check failed (exit ${status.exitCode}): ${drift(status)}")
        }
        return check(status, checked ? 'status --check' : 'status')
    }

    /** The values for `stages`: the branch chain, or the stages the step or a build parameter names. */
    Map chainValues(def env, Map params) {
        return [BRANCH: env.BRANCH_NAME ?: '', CHANGE_ID: env.CHANGE_ID ?: '', ONLY: list(options.stages),
                STOP_AFTER: params.STOP_AFTER_STAGE ?: '']
    }

    /**
     * Deploys the release to a stage (`dualdeploy deploy`, which runs the stage's gate and rolls a failed stage back),
     * publishes the gate's checks (written to `.dualdeploy/gate-<stage>.xml`; `gate: false` skips the gate), and fails
     * the build with the CLI's reason if the stage did not succeed.
     */
    Map deploy(String stage, Map release, Map params) {
        Map values = releaseValues(stage, release, params) + [JUNIT: gateReport(stage), NO_GATE: options.gate == false ? 'true' : '',
                                                              WAIT_LOCK: waitLock()]
        Map deployed
        try {
            deployed = run('deploy', values, "deploy-${stage}")
        } finally {
            // The checks of a failed gate are the ones a person needs to see, whatever else went wrong.
            publishGate(stage)
        }
        return check(deployed, "deploy to ${stage}")
    }

    /**
     * The values `plan` and `deploy` share: the release pinned by digest, its one label, and the side toggles (a
     * build parameter a person chose overrides the step's options, which override the config).
     */
    Map releaseValues(String stage, Map release, Map params) {
        return [STAGE: stage, IMAGE: release.image, VERSION: release.label,
                LEGACY: toggle(params.DEPLOY_LEGACY, options.legacy), KUBERNETES: toggle(params.DEPLOY_KUBERNETES, options.kubernetes)]
    }

    /** Publishes the stage's gate checks as test results (one testcase per check), if the gate ran. */
    void publishGate(String stage) {
        publish(gateReport(stage))
    }

    /** Publishes a JUnit report the CLI wrote (the runner deletes an earlier build's first), if there is one. */
    private void publish(String report) {
        if (steps.fileExists(report)) {
            steps.junit(testResults: report, allowEmptyResults: true)
        }
    }

    private static String gateReport(String stage) {
        return ".dualdeploy/gate-${stage}.xml".toString()
    }

    /**
     * Checks dualDeployCutover's own parameters before anything runs: a stage that is a name, at most one of `to:` (a
     * step, 1 to 100) and `next: true`, an approval that is `true` or `[submitter:, timeoutMinutes:]`, and a token
     * variable that is a variable name no other part of the call uses.
     */
    void checkCutover() {
        if (!options.stage) {
            steps.error('dualDeployCutover needs stage: (the stage whose traffic moves)')
        }
        if (!isName(options.stage)) {
            steps.error("dualdeploy: ${shown(options.stage)} is not a stage name: lower-case letters, digits and -, at most 63,"
                    + " starting and ending with a letter or digit (for example preprod)")
        }
        if (options.to != null && options.next) {
            steps.error('dualDeployCutover: to: and next: true exclude each other; give one, or neither to go up to the last step')
        }
        if (options.to != null && !isStep(options.to)) {
            steps.error("dualDeployCutover: to: ${shown(options.to)} is not a step: a whole percentage from 1 to 100, one of the"
                    + " stage's cutover steps (for example to: 25)")
        }
        if (options.next != null && !(options.next instanceof Boolean)) {
            steps.error("dualDeployCutover: next: ${shown(options.next)} is not true or false")
        }
        if (options.revert != null && !(options.revert instanceof Boolean)) {
            steps.error("dualDeployCutover: revert: ${shown(options.revert)} is not true or false")
        }
        if (options.revert && (options.to != null || options.next || options.approval)) {
            steps.error('dualDeployCutover: revert: true puts all traffic back on legacy at once; it takes no to:, next: or approval:')
        }
        if (!isApproval(options.approval)) {
            steps.error("dualDeployCutover: approval: ${shown(options.approval)} is neither true (the stage's approval: in the"
                    + " config) nor [submitter: 'sre', timeoutMinutes: 60] (timeoutMinutes from 1 to ${MAX_APPROVAL_MINUTES},"
                    + ' default 1440)')
        }
        if (options.approval && options.to != null) {
            // Walking up to a step needs to know, before the first move, where traffic is and which steps lie between, or
            // an approved `--next` could pass to: (or go up when to: is below the share); the CLI reports neither yet.
            steps.error('dualDeployCutover: approval: with to: is not supported: the CLI does not report the stage\'s steps'
                    + ' or where traffic is before a step moves; use next: true (one approved step per build), or leave out'
                    + ' to: (approved step by step up to the last step)')
        }
        if (!isTokenVariable(tokenVariable())) {
            steps.error("dualDeployCutover: cloudflareTokenVariable: ${shown(tokenVariable())} is not a variable name for the"
                    + " token: letters, digits and _, not starting with a digit, at most 64, and none of DD_*, DUALDEPLOY_*, "
                    + TAKEN.join(', ') + ' (for example CF_API_TOKEN, as the config\'s token_env names it)')
        }
    }

    /**
     * The approval asked before each cutover step, from the stage as `stages` reports it: the step's `approval:` map
     * (timeoutMinutes default 1440), the stage's own `approval:` for `approval: true`, or null for none.
     */
    Map cutoverApproval(Map chain) {
        def approval = options.approval
        if (!approval) {
            return null
        }
        if (approval instanceof Map) {
            return [submitter: approval.submitter.toString(), timeoutMinutes: approval.timeoutMinutes ?: 1440]
        }
        Map stage = named(chain.stages as List, options.stage.toString())
        if (!stage?.approval) {
            steps.error("dualDeployCutover: approval: true, but stage ${options.stage} has no approval: in the config; add one"
                    + " (approval: { submitter: sre, timeout: 24h }) or give approval: [submitter: 'sre', timeoutMinutes: 60]")
        }
        return stage.approval as Map
    }

    /**
     * Runs `dualdeploy cutover` for the stage, the index-th run of this build: one step up (`--next`) when `oneStep` (or
     * next: true), else to the step's `to:` or the last step. Publishes the checks of the steps it judged
     * (`.dualdeploy/cutover-<stage>-<index>.xml`), fails the build with the CLI's reason on any exit but 0 (the reason
     * says where traffic is), and prints the reason otherwise.
     */
    Map cutover(String stage, int index, boolean oneStep) {
        String report = ".dualdeploy/cutover-${stage}-${index}.xml".toString()
        Map values = [STAGE: stage, TO: oneStep || options.revert ? null : options.to,
                      NEXT: !options.revert && (oneStep || options.next) ? 'true' : '', REVERT: options.revert ? 'true' : '',
                      JUNIT: report, WAIT_LOCK: waitLock()]
        Map result
        try {
            result = run('cutover', values, "cutover-${stage}-${index}")
        } finally {
            // The checks of a failed step are the ones a person needs to see, whatever else went wrong.
            publish(report)
        }
        check(result, "cutover of ${stage}")
        steps.echo("dualdeploy cutover ${stage}: ${reason(result)}")
        return result
    }

    /** The variable the Cloudflare token is bound to: the one the config's token_env names. */
    private String tokenVariable() {
        return (options.cloudflareTokenVariable ?: CLOUDFLARE_TOKEN).toString()
    }

    /** The lock a stage's changes take in Jenkins: every step that changes the stage takes this one, so none interleave. */
    @NonCPS
    static String lockResource(String service, String stage) {
        return "dualdeploy/${service}/${stage}".toString()
    }

    /**
     * Whether the approved step-by-step walk is over, after the `cutover --next` result `last` (null: none ran yet):
     * next: true made its one step; traffic is at 100% (no step is above it) or unknown; or the run moved nothing, which
     * `--next` does only at or beyond the last step. A failed run never gets here: it failed the build.
     */
    @NonCPS
    static boolean cutoverDone(Map last, boolean next, List steps = null) {
        if (last == null) {
            return false
        }
        if (next || !(last.after instanceof Number) || (last.after as double) >= 99.995d) {
            return true
        }
        if (steps && (last.after as double) >= (steps.collect { it as double }.max() as double) - 0.005d) {
            return true // at the last step: nothing is above it to ask about
        }
        return !((last.traffic ?: []) as List).any { it instanceof Map && it.set != null }
    }

    /**
     * What a person is asked before one cutover step: "Move prod's traffic one step further to Kubernetes (step 2 of this
     * build)?", where it is now (as the last step read it back), and what a failure does.
     */
    @NonCPS
    static String cutoverQuestion(String stage, Map last, int index, List steps = null) {
        String now = last?.after instanceof Number
                ? "Kubernetes serves ${percent(last.after as double)} of ${stage}'s traffic now, as the last step read it back;"
                : 'Where the router holds the traffic now is read when the step starts;'
        String first = "Move ${stage}'s traffic one step further to Kubernetes (step ${index} of this build)?"
        if (steps) {
            List<Double> shares = steps.collect { it as double }
            Double next = last?.after instanceof Number ? shares.find { it > (last.after as double) + 0.005d } : null
            first = next != null
                    ? "Move ${stage}'s traffic to ${percent(next)} on Kubernetes (step ${shares.indexOf(next) + 1} of ${shares.size()})?"
                    : "Move ${stage}'s traffic to the next of its cutover steps (${shares.collect { percent(it) }.join(' → ')}) on Kubernetes?"
        }
        return [first,
                "${now} the step goes to the next of the stage's cutover steps above it.",
                'The step is judged (kubernetes against legacy) before the build goes on; a FAIL puts all traffic back on legacy.']
                .join('\n')
    }

    @NonCPS
    private static String percent(double share) {
        double rounded = Math.round(share * 100) / 100.0d
        return (rounded == Math.rint(rounded) ? String.valueOf((long) rounded) : String.valueOf(rounded)) + '%'
    }

    /** The stage's cutover steps as `stages` reports them, or null when it reports none (a CLI before they were added). */
    @NonCPS
    static List cutoverSteps(Map chain, String stage) {
        Map named = named(chain?.stages as List, stage)
        return named?.cutover instanceof Map ? (named.cutover.steps as List) : null
    }

    @NonCPS
    private static Map named(List stages, String name) {
        return (stages ?: []).find { it instanceof Map && it.name == name } as Map
    }

    /** Whether a value is a cutover step as the config allows one: a whole percentage from 1 to 100. */
    @NonCPS
    static boolean isStep(def value) {
        if (value instanceof Integer) {
            return value >= 1 && value <= 100
        }
        return value instanceof CharSequence && value.toString() ==~ /[1-9][0-9]?|100/
    }

    @NonCPS
    private static boolean isApproval(def value) {
        if (value == null || value instanceof Boolean) {
            return true
        }
        if (!(value instanceof Map) || !(value.keySet() as List).every { it in ['submitter', 'timeoutMinutes'] }) {
            return false
        }
        def minutes = value.timeoutMinutes
        boolean submitter = value.submitter instanceof CharSequence && value.submitter.toString().trim()
        return submitter && (minutes == null || (minutes instanceof Integer && minutes >= 1 && minutes <= MAX_APPROVAL_MINUTES))
    }

    @NonCPS
    private static boolean isTokenVariable(String name) {
        return name ==~ /[A-Za-z_][A-Za-z0-9_]{0,63}/ && !name.startsWith('DD_') && !name.startsWith('DUALDEPLOY_') && !(name in TAKEN)
    }

    /**
     * Releases the image (see {@link #image}): `dualdeploy release` pins it to its digest. The result's `label` is the
     * one version label of this release, computed once here and used for `--release-version` on every side, in the
     * approval message and in the build description: `version:` if given, else the image's tag, else the short digest.
     */
    Map release(def env, Map params, String repository) {
        Map release = check(run('release', [IMAGE: image(env, params, repository)], 'release'), 'release')
        release.label = label(options.version, release)
        return release
    }

    /**
     * The image to release: the IMAGE parameter, else the step's image:, else the one `build:` builds and pushes to
     * its repository (by default the config's image:), tagged with version:, else the commit, else the build's tag,
     * never `latest`. A built image is returned pinned to the digest its own push reported (repository:tag@sha256:…),
     * so another build pushing the same tag meanwhile cannot change what is released.
     */
    String image(def env, Map params, String repository) {
        String given = params.IMAGE ?: options.image
        if (given) {
            return given
        }
        Map build = options.build as Map
        if (!build) {
            steps.error('dualDeploy needs image: (a prebuilt image) or build: [context: ".", dockerfile: "Dockerfile"]')
        }
        String tag = imageTag(options.version, env.GIT_COMMIT, env.BUILD_TAG)
        if (!tag) {
            steps.error("dualDeploy build: needs a tag that names this build: version: (a valid tag), or GIT_COMMIT or BUILD_TAG"
                    + " in the environment; it never pushes 'latest', which another build can move")
        }
        steps.withEnv(["DD_TAG=${build.repository ?: repository}:${tag}", "DD_CONTEXT=${build.context ?: '.'}",
                       "DD_DOCKERFILE=${build.dockerfile ?: 'Dockerfile'}"]) {
            steps.sh(script: steps.libraryResource('dev/dualdeploy/docker-build.sh'), label: 'docker build and push')
        }
        return steps.readFile('.dualdeploy/built-image').trim()
    }

    /**
     * Where the stage has an approval, asks it before the stage deploys: plans the release for the stage first
     * (`dualdeploy plan`, which reads the platforms and changes nothing), so the person sees what will change, and
     * waits no longer than the approval's timeout for one of its submitters. Aborting (or the timeout) fails the build
     * with the stage untouched.
     */
    void approve(Map stage, Map release, Map params) {
        Map approval = stage.approval as Map
        if (approval) {
            Map plan = check(run('plan', releaseValues(stage.name, release, params), "plan-${stage.name}"), "plan for ${stage.name}")
            ask(stage.name, approval, approvalMessage(plan, release.label), 'Deploy')
        }
    }

    /**
     * Asks a person for consent: an `input` showing the message, limited to the approval's submitters (`submitter`, a
     * comma-separated list) and waiting no longer than its `timeoutMinutes`. Aborting, refusing or the timeout fail the
     * build (the input's own error) before anything changes.
     */
    void ask(String stage, Map approval, String message, String ok) {
        // The question and its answer are journaled (dualdeploy approval), so that history says who was asked and who
        // answered: the audit trail of the stage.
        check(run('approval', [STAGE: stage, APPROVAL: 'asked', SUBMITTERS: approval.submitter,
                               APPROVAL_TIMEOUT: "${approval.timeoutMinutes}m".toString(), PLAN: message],
                "approval-${stage}"), "approval of ${stage}")
        def by
        try {
            steps.timeout(time: approval.timeoutMinutes, unit: 'MINUTES') {
                by = steps.input(message: message, ok: ok, submitter: approval.submitter, submitterParameter: 'APPROVER')
            }
        } catch (error) {
            // Aborted, refused or timed out: said in the journal as not approved, and the build fails as it would.
            try {
                run('approval', [STAGE: stage, APPROVAL: 'rejected', REASON: oneLine(error.message ?: 'aborted or timed out')],
                        "approval-${stage}")
            } catch (ignored) {
                // The build fails on the approval's own error; the audit line is best effort here.
            }
            throw error
        }
        check(run('approval', [STAGE: stage, APPROVAL: 'approved', BY: by instanceof String ? by : null],
                "approval-${stage}"), "approval of ${stage}")
    }

    @NonCPS
    private static String oneLine(String text) {
        return text.readLines().join(' ').take(500)
    }

    /**
     * Declares the job's "Build with Parameters" form from the chain's stages. The side toggles default to
     * `as configured` (the step's option, else the config's toggle), so the first build, which has no parameters
     * yet, and every later build deploy the same sides unless a person chooses otherwise.
     */
    void declareParameters(List stageNames) {
        steps.properties([steps.parameters([
                steps.choice(name: 'DEPLOY_LEGACY', choices: [AS_CONFIGURED, 'true', 'false'],
                        description: "Deploy to the legacy side (ECS); ${AS_CONFIGURED}: ${configured('legacy', options.legacy)}".toString()),
                steps.choice(name: 'DEPLOY_KUBERNETES', choices: [AS_CONFIGURED, 'true', 'false'],
                        description: "Deploy to Kubernetes; ${AS_CONFIGURED}: ${configured('kubernetes', options.kubernetes)}".toString()),
                steps.choice(name: 'STOP_AFTER_STAGE', choices: [''] + stageNames, description: 'Stop after this stage (empty: all)'),
                steps.string(name: 'IMAGE', defaultValue: '', description: 'A prebuilt image instead of building one')])])
    }

    private List environment(String command, String result, Map values) {
        List env = ["DD_COMMAND=${command}", "DD_RESULT=${result}", "DD_CLI_VERSION=${cliVersion()}"]
        if (options.cli) {
            env << "DD_CLI=${options.cli}"
        }
        if (command != 'release') {
            if (options.configFile) {
                env << "DD_CONFIG=${options.configFile}"
            }
            if (options.allowOutsideManifests == true) {
                env << 'DD_ALLOW_OUTSIDE_MANIFESTS=true'
            }
            String override = configOverride(options)
            if (override) {
                env << "DD_OVERRIDE=${override}"
            }
        }
        env.addAll(pairs(values))
        return env
    }

    private List credentials(String command) {
        Map ids = (options.credentials ?: [:]) as Map
        List bindings = []
        if (ids.kubeconfig) {
            bindings << steps.file(credentialsId: ids.kubeconfig, variable: 'KUBECONFIG')
        }
        if (ids.aws) {
            bindings << steps.usernamePassword(credentialsId: ids.aws, usernameVariable: 'AWS_ACCESS_KEY_ID',
                    passwordVariable: 'AWS_SECRET_ACCESS_KEY')
        }
        // Only the cutover talks to Cloudflare; every other command runs without the token.
        if (ids.cloudflare && command == 'cutover') {
            bindings << steps.string(credentialsId: ids.cloudflare, variable: tokenVariable())
        }
        return bindings
    }

    private String script() {
        if (runner == null) {
            runner = steps.libraryResource('dev/dualdeploy/dualdeploy.sh')
        }
        return runner
    }

    private String cliVersion() {
        if (version == null) {
            version = steps.libraryResource('dev/dualdeploy/cli-version').trim()
        }
        return version
    }

    /** The names of the chain's stages, for the STOP_AFTER_STAGE choice. */
    @NonCPS
    static List names(List stages) {
        return stages.collect { it.name }
    }

    /** The build's description, as a person scans it in a build list: "loan-api 1.4.2 → prod · ecs+k8s". */
    @NonCPS
    static String description(String service, Map release, Map last) {
        String version = release.label
        List sides = last.sides.collect { it.side == 'kubernetes' ? 'k8s' : 'ecs' }
        return "${service} ${version} → ${last.stage} · ${sides.join('+')}".toString()
    }

    /**
     * What an approval shows: the release, and per side what runs now and what it becomes, from `plan`:
     * "Deploy 1.4.2 to prod?", then "legacy (ecs prod/loan-api): 1.4.1 → 1.4.2".
     */
    @NonCPS
    static String approvalMessage(Map plan, String release) {
        List lines = ["Deploy ${release} to ${plan.stage}?".toString()]
        plan.sides.each { Map side ->
            Map current = (side.current ?: [:]) as Map
            String now = current.version ?: (current.digest ? current.digest.toString().replaceFirst('^sha256:', '').take(12) : 'nothing')
            String change = side.action == 'SKIP' ? 'not deployed (toggled off)'
                    : side.action == 'NO_CHANGE' ? "${now}, no change".toString() : "${now} → ${release}".toString()
            lines << "${side.side} (${side.target}): ${change}".toString()
        }
        return lines.join('\n')
    }

    /** One line per stage of a status result: "prod: PARITY (all sides run …)". */
    @NonCPS
    static String summary(Map status) {
        return status.stages.collect { "${it.stage}: ${it.parity.status} (${it.parity.reason})" }.join('\n')
    }

    /**
     * What `status --check` found, per stage: "DRIFT in prod: legacy runs 1.4.1 (aaaaaaaaaaaa), kubernetes runs 1.4.2
     * (bbbbbbbbbbbb)", and "prod legacy cannot be read: <why>".
     */
    @NonCPS
    static String drift(Map status) {
        List found = []
        status.stages.each { Map stage ->
            List sides = ((stage.sides ?: []) as List).findAll { it.enabled != false }
            sides.findAll { it.error }.each { found << "${stage.stage} ${it.side} cannot be read: ${it.error}".toString() }
            if (stage.parity?.status == 'DRIFT') {
                found << "DRIFT in ${stage.stage}: ${sides.collect { "${it.side} runs ${running(it)}" }.join(', ')}".toString()
            }
        }
        return found ? found.join('; ') : reason(status)
    }

    @NonCPS
    private static String running(Map side) {
        String digest = side.digest ? side.digest.toString().replaceFirst('^sha256:', '').take(12) : null
        if (side.version && digest) {
            return "${side.version} (${digest})".toString()
        }
        return (side.version ?: digest ?: 'nothing').toString()
    }

    // Map iteration and JSON parsing stay out of CPS: a Map.Entry or a lazy JSON map kept across a step is not
    // serializable, and CPS runs closures passed to each() in ways plain Groovy does not.
    @NonCPS
    private static List pairs(Map values) {
        return values.findAll { k, v -> v != null && v != '' }.collect { k, v -> "DD_${k}=${v}".toString() }
    }

    @NonCPS
    private static String configOverride(Map options) {
        Map config = options.findAll { k, v -> !OWN.contains(k) }
        return config ? groovy.json.JsonOutput.toJson(config) : ''
    }

    /**
     * The tag a built image is pushed under: version: if it is a valid tag, else the commit's first 12 characters,
     * else Jenkins' BUILD_TAG made a valid tag; null if there is none (never `latest`).
     */
    @NonCPS
    static String imageTag(def version, def commit, def buildTag) {
        String pattern = /[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}/
        if (version) {
            return version.toString() ==~ pattern ? version.toString() : null
        }
        if (commit) {
            return commit.toString().take(12) ==~ pattern ? commit.toString().take(12) : null
        }
        String tag = buildTag ? buildTag.toString().replaceAll(/[^A-Za-z0-9_.-]/, '-').take(128) : ''
        return tag ==~ pattern ? tag : null
    }

    /** The release's version label: `version:` if given, else the image's tag, else the short digest (12 hex digits). */
    @NonCPS
    static String label(def version, Map release) {
        return (version ?: release.tag ?: release.digest.toString().replaceFirst('^sha256:', '').take(12)).toString()
    }

    /** Whether a value is a stage name, by the config's rule for them: it is safe in a file name as it is. */
    @NonCPS
    static boolean isName(def value) {
        return value instanceof CharSequence && value.toString() ==~ /[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/
    }

    /**
     * Whether a step's waitLock is absent (null or empty) or a duration as the CLI reads one (`10m`, `1m30s`): digits and
     * units only, so that no space, quote or control character reaches the runner.
     */
    @NonCPS
    static boolean isWaitLock(def value) {
        return value == null || value == '' || (value instanceof CharSequence && value.toString() ==~ /(?:[0-9]{1,7}(?:ms|s|m|h)){1,4}/)
    }

    /** A value quoted for an error message, control characters escaped, at most 80 characters. */
    @NonCPS
    private static String shown(def value) {
        String text = value.toString()
        return (text.length() > 80 ? text.take(80) + '…' : text).inspect()
    }

    /** The JSON object in a result file; null if the text is empty or not a JSON object. */
    @NonCPS
    private static Map parse(String text) {
        if (!text?.trim()) {
            return null
        }
        try {
            def parsed = new groovy.json.JsonSlurperClassic().parseText(text)
            return parsed instanceof Map ? parsed as Map : null
        } catch (groovy.json.JsonException ignored) {
            return null
        }
    }

    /** Why a command failed, in the CLI's words: each config problem on its own line, else the reason or error. */
    @NonCPS
    static String reason(Map result) {
        List problems = (result.problems ?: []) as List
        if (problems) {
            List lines = problems.collect { Map p ->
                "${result.file ? result.file + ': ' : ''}${p.path ? p.path + ': ' : ''}${p.problem}${p.example ? ' (for example: ' + p.example + ')' : ''}".toString()
            }
            return lines.size() == 1 ? lines[0] : "${lines.size()} problems in the config:\n" + lines.join('\n')
        }
        return (result.reason ?: result.error ?: 'no reason given; see the log above').toString()
    }

    @NonCPS
    private static String list(def value) {
        return value instanceof List ? value.join(',') : (value ?: '')
    }

    /**
     * A side's toggle for this build: a value a person chose in the form (`true`/`false`) overrides the step's option;
     * `as configured`, no parameter (the first build) or an empty one leave the option, else the config, to decide.
     * A boolean is what an older version of this library declared (a checkbox that defaulted to true): its true is
     * indistinguishable from the default nobody chose, so only its false, which a person unticked, counts.
     */
    @NonCPS
    private static String toggle(def parameter, def option) {
        def value = option
        if (parameter instanceof CharSequence && parameter.toString() in ['true', 'false']) {
            value = parameter.toString()
        } else if (parameter instanceof Boolean && !parameter) {
            value = 'false'
        }
        return value == null ? '' : value.toString()
    }

    @NonCPS
    private static String configured(String side, def option) {
        return option != null ? "the step's ${side}: ${option}".toString() : "the config's deploy: toggle of each stage"
    }
}
