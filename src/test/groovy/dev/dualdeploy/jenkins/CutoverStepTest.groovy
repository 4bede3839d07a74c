package dev.dualdeploy.jenkins

import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

import static org.assertj.core.api.Assertions.assertThat
import static org.assertj.core.api.Assertions.catchThrowable

/**
 * The dualDeployCutover step: the exact CLI command lines, the credentials bound around the cutover (the Cloudflare token
 * by withCredentials, never through Groovy), the stage's lock (the one dualDeploy takes), an approval before each step,
 * a JUnit report per run, and the exit codes. The fake CLI answers cutover as a router holding the share would: each
 * run starts where the last one left traffic, and `--next` moves one step up.
 */
class CutoverStepTest extends PipelineFixture {

    static final String ROUTER = 'cloudflare load balancer 6c3a8f/1f0b'
    static final String FIRST_QUESTION = "Move prod's traffic one step further to Kubernetes (step 1 of this build)?\n" +
            "Where the router holds the traffic now is read when the step starts; the step goes to the next of the stage's" +
            " cutover steps above it.\n" +
            'The step is judged (kubernetes against legacy) before the build goes on; a FAIL puts all traffic back on legacy.'

    /** The stage's cutover steps, and the share of its traffic on Kubernetes, as the fake router holds it. */
    List<Integer> cutoverSteps = [10, 25, 50, 100]
    double share = 0

    @BeforeEach
    void setUp() {
        setUpPipeline()
        // The harness keeps its call stack across setUpPipeline: a test that runs twice starts the second run clean.
        helper.callStack.clear()
        share = 0
        // As the real CLI: stages --only answers that stage only.
        answers.stages = { Map e -> chain(e.DD_ONLY ? e.DD_ONLY.split(',') as List : ['sandbox', 'preprod', 'beta', 'prod']) }
        answers.cutover = { Map e -> moved(e) }
    }

    /** What `dualdeploy cutover` answers when every step it moves to passes its gate. */
    Map moved(Map e) {
        double before = share
        Integer goal = e.DD_NEXT == 'true' ? cutoverSteps.find { it > share + 0.005 } : (e.DD_TO ? e.DD_TO as Integer : cutoverSteps.last())
        List traffic = [[at: '2026-12-02T10:00:00Z', read: before, expected: null, reported: "weights legacy=${100 - before} kubernetes=${before}".toString(), error: null]]
        if (goal == null) {
            return [command: 'cutover', stage: e.DD_STAGE, outcome: 'SUCCEEDED', router: ROUTER, before: before, after: before, traffic: traffic,
                    reason: "${percent(before)} of traffic is on kubernetes, at or beyond the last step (${cutoverSteps.last()}%); nothing to move".toString()]
        }
        List<Integer> steps = goal < before ? [goal] : cutoverSteps.findAll { it > before + 0.005 && it <= goal }
        steps.each { int step ->
            traffic << [at: '2026-12-02T10:01:00Z', set: step as double, why: "step ${cutoverSteps.indexOf(step) + 1} of ${cutoverSteps.size()}".toString()]
            traffic << [at: '2026-12-02T10:01:01Z', read: step as double, expected: step as double, reported: "weights legacy=${100 - step} kubernetes=${step}".toString(), error: null]
        }
        share = goal
        [command: 'cutover', stage: e.DD_STAGE, outcome: 'SUCCEEDED', router: ROUTER, before: before, after: share, traffic: traffic,
         reason: "${goal}% of traffic is on kubernetes; steps judged: ${steps.collect { "${it}% PASS" }.join(', ')}".toString(),
         writes: [(e.DD_JUNIT): '<testsuites/>']]
    }

    private static String percent(double share) {
        share == Math.rint(share) ? "${(long) share}%" : "${share}%"
    }

    List<Map> inputs() {
        callsTo('input')*.args*.getAt(0)
    }

    @Test
    void toRunsOneCutoverUnderTheStagesLockAndPublishesItsChecks() {
        Map result = runPipeline("return dualDeployCutover(stage: 'prod', to: 25, waitLock: '10m', configFile: 'deploy/dualdeploy.yaml')") as Map

        assertThat(commands()).containsExactly('stages', 'cutover prod')
        assertThat(cliCalls[0].argv).containsExactly('stages', '--file', 'deploy/dualdeploy.yaml', '--only', 'prod', '--output', 'json')
        assertThat(cliCalls[1].argv).containsExactly('cutover', '--file', 'deploy/dualdeploy.yaml', '--stage', 'prod', '--to', '25',
                '--wait-lock', '10m', '--junit', '.dualdeploy/cutover-prod-1.xml', '--output', 'json')
        assertThat(cliCalls*.script).containsOnly(RUNNER)
        assertThat(events).containsExactly('stages', 'lock dualdeploy/loan-api/prod', 'cutover prod', 'unlock dualdeploy/loan-api/prod')
        assertThat(callsTo('junit')*.args*.getAt(0)).containsExactly([testResults: '.dualdeploy/cutover-prod-1.xml', allowEmptyResults: true])
        assertThat(callsTo('echo')*.args*.getAt(0)*.toString())
                .containsExactly('dualdeploy cutover prod: 25% of traffic is on kubernetes; steps judged: 10% PASS, 25% PASS')
        assertThat(callsTo('input')).isEmpty()
        assertThat(callsTo('archiveArtifacts')*.args*.getAt(0))
                .containsExactly([artifacts: '.dualdeploy/*.json, .dualdeploy/journal/**', allowEmptyArchive: true])
        assertThat(result.after).isEqualTo(25.0)
        assertThat(result.outcome).isEqualTo('SUCCEEDED')
        assertThat(shellCalls).as('no shell but the runner').isEmpty()
    }

    @Test
    void nextMovesOneStepAndNeitherGoesToTheLastStep() {
        runPipeline("dualDeployCutover(stage: 'prod', next: true)")
        assertThat(cliCalls[1].argv).containsExactly('cutover', '--stage', 'prod', '--next', '--junit', '.dualdeploy/cutover-prod-1.xml',
                '--output', 'json')
        assertThat(share).isEqualTo(10.0d)

        setUp()
        share = 10 // the router holds what the build before left
        runPipeline("dualDeployCutover(stage: 'prod', next: false)")
        assertThat(cliCalls[1].argv).containsExactly('cutover', '--stage', 'prod', '--junit', '.dualdeploy/cutover-prod-1.xml', '--output', 'json')
        assertThat(share).isEqualTo(100.0d)
        assertThat(callsTo('echo')*.args*.getAt(0)*.toString())
                .containsExactly('dualdeploy cutover prod: 100% of traffic is on kubernetes; steps judged: 25% PASS, 50% PASS, 100% PASS')
    }

    /** A deploy and a cutover of one stage never interleave: both take the one lock of the service's stage. */
    @Test
    void theLockIsTheOneDualDeployTakesForTheStage() {
        answers.stages = { Map e -> chain(['prod']) + [service: 'billing'] }
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')")
        List deployLocks = callsTo('lock')*.args*.getAt(0)*.resource*.toString()

        setUp()
        answers.stages = { Map e -> chain(['prod']) + [service: 'billing'] }
        runPipeline("dualDeployCutover(stage: 'prod', approval: [submitter: 'sre'])")
        List cutoverLocks = callsTo('lock')*.args*.getAt(0)*.resource*.toString()

        assertThat(deployLocks).containsExactly('dualdeploy/billing/prod')
        assertThat(cutoverLocks).hasSize(4).containsOnly(deployLocks[0])
    }

    @Test
    void theCloudflareTokenIsBoundAroundTheCutoverOnlyAndNeverPassesThroughGroovy() {
        runPipeline("dualDeployCutover(stage: 'prod', credentials: [kubeconfig: 'kube-prod', aws: 'aws-deployer', cloudflare: 'cf-lb-token'])")

        List common = [[file: [credentialsId: 'kube-prod', variable: 'KUBECONFIG']],
                       [usernamePassword: [credentialsId: 'aws-deployer', usernameVariable: 'AWS_ACCESS_KEY_ID', passwordVariable: 'AWS_SECRET_ACCESS_KEY']]]
        CliCall cutover = cliCalls.find { it.argv[0] == 'cutover' }
        assertThat(cutover.credentials).isEqualTo(common + [[string: [credentialsId: 'cf-lb-token', variable: 'CF_API_TOKEN']]])
        assertThat(cliCalls.find { it.argv[0] == 'stages' }.credentials).as('no token for what does not reach Cloudflare').isEqualTo(common)
        String secret = secretOf('cf-lb-token')
        assertThat(cutover.env).as('bound by withCredentials, in the environment of the runner').containsEntry('CF_API_TOKEN', secret)
        cliCalls.each { call ->
            assertThat(call.env.findAll { k, v -> k != 'CF_API_TOKEN' }.values()).as('no value Groovy set holds the token').noneMatch { it.contains(secret) }
            assertThat(call.argv).noneMatch { it.contains(secret) || it.contains('CF_API_TOKEN') }
        }
        assertThat(cliCalls.find { it.argv[0] == 'stages' }.env).doesNotContainKey('CF_API_TOKEN')

        setUp()
        runPipeline("dualDeployCutover(stage: 'prod', credentials: [cloudflare: 'cf-lb-token'], cloudflareTokenVariable: 'LB_TOKEN')")
        assertThat(cliCalls.find { it.argv[0] == 'cutover' }.credentials).containsExactly([string: [credentialsId: 'cf-lb-token', variable: 'LB_TOKEN']])
        assertThat(cliCalls.find { it.argv[0] == 'cutover' }.env).containsEntry('LB_TOKEN', secretOf('cf-lb-token'))
        assertThat(cliCalls.collect { it.env.DD_OVERRIDE ?: '' }).as('a step parameter, not a config key').noneMatch { it.contains('LB_TOKEN') }
    }

    /** Approval per step: asked before each step, outside the lock, limited to the submitters, showing where traffic is. */
    @Test
    void withApprovalEachStepIsAskedFirstThenMovedOneStepUnderTheLock() {
        runPipeline("dualDeployCutover(stage: 'prod', approval: [submitter: 'sre,release-managers', timeoutMinutes: 60])")

        List<String> step = ['approval prod', 'input', 'approval prod', 'lock dualdeploy/loan-api/prod', 'cutover prod', 'unlock dualdeploy/loan-api/prod']
        assertThat(events).containsExactlyElementsOf(['stages'] + step + step + step + step)
        List cutovers = cliCalls.findAll { it.argv[0] == 'cutover' }
        assertThat(cutovers*.argv).containsExactly(
                ['cutover', '--stage', 'prod', '--next', '--junit', '.dualdeploy/cutover-prod-1.xml', '--output', 'json'],
                ['cutover', '--stage', 'prod', '--next', '--junit', '.dualdeploy/cutover-prod-2.xml', '--output', 'json'],
                ['cutover', '--stage', 'prod', '--next', '--junit', '.dualdeploy/cutover-prod-3.xml', '--output', 'json'],
                ['cutover', '--stage', 'prod', '--next', '--junit', '.dualdeploy/cutover-prod-4.xml', '--output', 'json'])
        assertThat(share).as('stopped at 100%, with no fifth question').isEqualTo(100.0d)
        assertThat(inputs()).hasSize(4)
        inputs().each { assertThat(it).containsEntry('submitter', 'sre,release-managers').containsEntry('ok', 'Move').containsEntry('submitterParameter', 'APPROVER') }
        assertThat(callsTo('timeout')*.args*.getAt(0)).containsOnly([time: 60, unit: 'MINUTES']).hasSize(4)
        assertThat(inputs()[0].message.toString()).isEqualTo(FIRST_QUESTION)
        assertThat(inputs()*.message*.toString()*.readLines()*.getAt(1)).containsExactly(
                "Where the router holds the traffic now is read when the step starts; the step goes to the next of the stage's cutover steps above it.",
                "Kubernetes serves 10% of prod's traffic now, as the last step read it back; the step goes to the next of the stage's cutover steps above it.",
                "Kubernetes serves 25% of prod's traffic now, as the last step read it back; the step goes to the next of the stage's cutover steps above it.",
                "Kubernetes serves 50% of prod's traffic now, as the last step read it back; the step goes to the next of the stage's cutover steps above it.")
        assertThat(inputs()[3].message.toString()).startsWith("Move prod's traffic one step further to Kubernetes (step 4 of this build)?\n")
        List asked = cliCalls.findAll { it.argv[0] == 'approval' && it.argv.contains('--asked') }
        assertThat(asked[1].argv).containsExactly('approval', '--stage', 'prod', '--asked', '--submitters', 'sre,release-managers', '--timeout', '60m',
                '--plan', inputs()[1].message.toString(), '--output', 'json')
        assertThat(callsTo('junit')*.args*.getAt(0)*.testResults).containsExactly('.dualdeploy/cutover-prod-1.xml', '.dualdeploy/cutover-prod-2.xml',
                '.dualdeploy/cutover-prod-3.xml', '.dualdeploy/cutover-prod-4.xml')
    }

    /** A cutover whose last step is below 100%: the run that moves nothing (at the last step) ends the walk. */
    @Test
    void theWalkEndsAtALastStepBelowAHundredWhenAStepMovesNothing() {
        cutoverSteps = [10, 25, 50]

        runPipeline("dualDeployCutover(stage: 'prod', approval: [submitter: 'sre'])")

        assertThat(commands().findAll { it == 'cutover prod' }).hasSize(4)
        assertThat(share).isEqualTo(50.0d)
        assertThat(inputs()).hasSize(4)
        assertThat(callsTo('timeout')*.args*.getAt(0)).containsOnly([time: 1440, unit: 'MINUTES'])
        assertThat(callsTo('echo')*.args*.getAt(0)*.toString().last())
                .isEqualTo('dualdeploy cutover prod: 50% of traffic is on kubernetes, at or beyond the last step (50%); nothing to move')
        assertThat(callsTo('junit')).as('the run that judged nothing wrote no report').hasSize(3)
    }

    @Test
    void nextWithApprovalAsksOnceAndMovesOneStep() {
        share = 25

        runPipeline("dualDeployCutover(stage: 'prod', next: true, approval: [submitter: 'sre'])")

        assertThat(commands()).containsExactly('stages', 'approval prod', 'approval prod', 'cutover prod')
        assertThat(cliCalls[3].argv).containsExactly('cutover', '--stage', 'prod', '--next', '--junit', '.dualdeploy/cutover-prod-1.xml', '--output', 'json')
        assertThat(share).isEqualTo(50.0d)
        assertThat(inputs()*.message*.toString()).containsExactly(FIRST_QUESTION)
    }

    /** approval: true asks the submitters of the stage's own approval: in the config, within its timeout. */
    @Test
    void approvalTrueUsesTheStagesApprovalFromTheConfig() {
        answers.stages = { Map e -> chain(['prod'], [submitter: 'release-managers', submitters: ['release-managers'], timeoutMinutes: 90]) }
        cutoverSteps = [100]

        runPipeline("dualDeployCutover(stage: 'prod', approval: true)")

        assertThat(inputs()).hasSize(1)
        assertThat(inputs()[0]).containsEntry('submitter', 'release-managers')
        assertThat(callsTo('timeout')*.args*.getAt(0)).containsExactly([time: 90, unit: 'MINUTES'])
        assertThat(share).isEqualTo(100.0d)

        setUp()
        answers.stages = { Map e -> chain(['beta']) }
        Throwable none = catchThrowable { runPipeline("dualDeployCutover(stage: 'beta', approval: true)") }
        assertThat(none).isInstanceOf(PipelineError).hasMessageStartingWith('dualDeployCutover: approval: true, but stage beta has no approval: in the config')
        assertThat(commands()).containsExactly('stages')
    }

    /** Aborting an approval (input throws) moves nothing more: traffic stays where the step before left it. */
    @Test
    void abortingAnApprovalMovesNothingMore() {
        int asked = 0
        helper.registerAllowedMethod('input', [Map]) { Map m ->
            events << 'input'
            if (++asked == 2) {
                throw new PipelineError('Aborted by alice')
            }
            'bob'
        }

        Throwable failure = catchThrowable { runPipeline("dualDeployCutover(stage: 'prod', approval: [submitter: 'sre'])") }

        assertThat(failure).hasMessage('Aborted by alice')
        assertThat(commands()).containsExactly('stages', 'approval prod', 'approval prod', 'cutover prod', 'approval prod', 'approval prod')
        assertThat(cliCalls[2].argv).containsExactly('approval', '--stage', 'prod', '--approved', '--by', 'bob', '--output', 'json')
        assertThat(cliCalls[-1].argv).containsExactly('approval', '--stage', 'prod', '--rejected', '--reason', 'Aborted by alice', '--output', 'json')
        assertThat(share).isEqualTo(10.0d)
        assertThat(callsTo('lock')).hasSize(1)
        assertThat(callsTo('archiveArtifacts')).hasSize(1)
    }

    /** Exit 1: a step FAILED and traffic is back on legacy; the build fails with the reason, after the checks are published. */
    @Test
    void aFailedStepFailsTheBuildWithTheReasonAfterPublishingItsChecks() {
        String reason = 'the gate at 25% (step 2 of 4) is FAIL: sequential error_rate: kubernetes 2.10% vs legacy 0.40%;' +
                ' traffic is back on legacy (read back 0% on kubernetes, 1.2s after the decision)'
        answers.cutover = { Map e ->
            share == 10 ? [command: 'cutover', exitCode: 1, stage: 'prod', outcome: 'REVERTED', before: 10.0, after: 0.0, reason: reason,
                           writes: [(e.DD_JUNIT): '<testsuites/>']]
                    : moved(e)
        }

        Throwable failure = catchThrowable { runPipeline("dualDeployCutover(stage: 'prod', approval: [submitter: 'sre'])") }

        assertThat(failure).isInstanceOf(PipelineError).hasMessage("dualdeploy cutover of prod failed (exit 1): ${reason}".toString())
        assertThat(commands().findAll { it == 'cutover prod' }).hasSize(2)
        assertThat(inputs()).as('no question after the failure').hasSize(2)
        assertThat(callsTo('junit')*.args*.getAt(0)*.testResults).containsExactly('.dualdeploy/cutover-prod-1.xml', '.dualdeploy/cutover-prod-2.xml')
        assertThat(helper.callStack.findLastIndexOf { it.methodName == 'archiveArtifacts' })
                .isGreaterThan(helper.callStack.findLastIndexOf { it.methodName == 'junit' })
        assertThat(workspace.resolve('.dualdeploy/cutover-prod-2.json').toFile().text).contains('REVERTED')
    }

    /** Every other exit fails the build too, with the CLI's reason: aborted (6), needs a person (4), drift (3), leased (5). */
    @Test
    void everyNonZeroExitFailsTheBuildWithTheReason() {
        Map<Integer, String> reasons = [
                6: 'aborted (SIGTERM) during the gate at 25%; traffic is back on legacy (read back 0% on kubernetes, 0.4s after the decision)',
                4: "setting 25% on kubernetes failed at ${ROUTER}: Cloudflare answered 403; putting traffic back on legacy FAILED: the router" +
                        " did not answer; it was last read at 10%; a person must set 0% on kubernetes at ${ROUTER}",
                3: 'traffic not moved: the sides do not run the same release (legacy 1.4.1, kubernetes 1.4.2); deploy one release to both sides first',
                5: 'stage prod is leased by run 20261202-0959-ab12 jenkins-loan-api-41 since 09:59:12Z; nothing was changed']
        reasons.each { int code, String reason ->
            setUp()
            answers.cutover = { Map e -> [command: 'cutover', exitCode: code, stage: 'prod', outcome: 'X', reason: reason.toString()] }
            Throwable failure = catchThrowable { runPipeline("dualDeployCutover(stage: 'prod', to: 25)") }
            assertThat(failure).as("exit ${code}").isInstanceOf(PipelineError).hasMessage("dualdeploy cutover of prod failed (exit ${code}): ${reason}".toString())
            assertThat(callsTo('archiveArtifacts')).as("exit ${code}").hasSize(1)
        }
    }

    @Test
    void badParametersAreRefusedBeforeAnythingRuns() {
        Map<String, String> refused = [
                "next: true"                                                 : 'dualDeployCutover needs stage: (the stage whose traffic moves)',
                "stage: 'Prod'"                                              : "dualdeploy: 'Prod' is not a stage name",
                "stage: '../x'"                                              : "dualdeploy: '../x' is not a stage name",
                "stage: 'prod', to: 25, next: true"                          : 'dualDeployCutover: to: and next: true exclude each other',
                "stage: 'prod', to: 0"                                       : "dualDeployCutover: to: '0' is not a step: a whole percentage from 1 to 100",
                "stage: 'prod', to: 101"                                     : "dualDeployCutover: to: '101' is not a step",
                "stage: 'prod', to: '25; id'"                                : "dualDeployCutover: to: '25; id' is not a step",
                "stage: 'prod', to: 12.5"                                    : "dualDeployCutover: to: '12.5' is not a step",
                "stage: 'prod', next: 'yes'"                                 : "dualDeployCutover: next: 'yes' is not true or false",
                "stage: 'prod', to: 50, approval: [submitter: 'sre']"        : 'dualDeployCutover: approval: with to: is not supported',
                "stage: 'prod', approval: [submitter: '']"                   : "dualDeployCutover: approval: ",
                "stage: 'prod', approval: [submitter: 'sre', timeoutMinutes: 0]" : 'dualDeployCutover: approval: ',
                "stage: 'prod', approval: [submiter: 'sre']"                 : 'dualDeployCutover: approval: ',
                "stage: 'prod', approval: 'sre'"                             : "dualDeployCutover: approval: 'sre' is neither true",
                "stage: 'prod', cloudflareTokenVariable: 'DD_CLI'"           : "dualDeployCutover: cloudflareTokenVariable: 'DD_CLI' is not a variable name",
                "stage: 'prod', cloudflareTokenVariable: 'PATH'"             : "dualDeployCutover: cloudflareTokenVariable: 'PATH' is not",
                "stage: 'prod', cloudflareTokenVariable: 'CF-TOKEN'"         : "dualDeployCutover: cloudflareTokenVariable: 'CF-TOKEN' is not",
                "stage: 'prod', waitLock: '5m; id'"                          : "dualdeploy: waitLock: '5m; id' is not a duration"]
        refused.each { String args, String message ->
            setUp()
            Throwable failure = catchThrowable { runPipeline("dualDeployCutover(${args})") }
            assertThat(failure).as(args).isInstanceOf(PipelineError).hasMessageStartingWith(message)
            assertThat(callsTo('sh')).as(args).isEmpty()
            assertThat(callsTo('lock') + callsTo('input')).as(args).isEmpty()
        }
    }

    @Test
    void aStepAsAStringIsPassedAsItIsAndConfigKeysBecomeTheOverride() {
        runPipeline("dualDeployCutover(stage: 'prod', to: '50', service: 'loan-api-eu', allowOutsideManifests: true)")

        assertThat(cliCalls[1].argv).containsExactly('cutover', '--override', '{"service":"loan-api-eu"}', '--stage', 'prod', '--to', '50',
                '--allow-outside-manifests', '--junit', '.dualdeploy/cutover-prod-1.xml', '--output', 'json')
        assertThat(cliCalls[0].argv).containsSequence('--override', '{"service":"loan-api-eu"}')
    }

    /** With the steps `stages` reports, each question names the step it moves to, and the walk stops at the last one. */
    @Test
    void theStepsStagesReportsAreNamedInEachQuestionAndEndTheWalk() {
        cutoverSteps = [10, 25, 50]
        answers.stages = { Map e -> Map c = chain(['prod']); c.stages[0].cutover = [router: 'alb', steps: [10, 25, 50]]; c }

        runPipeline("dualDeployCutover(stage: 'prod', approval: [submitter: 'sre', timeoutMinutes: 60])")

        assertThat(inputs()*.message*.toString()*.readLines()*.getAt(0)).containsExactly(
                "Move prod's traffic to the next of its cutover steps (10% → 25% → 50%) on Kubernetes?",
                "Move prod's traffic to 25% on Kubernetes (step 2 of 3)?",
                "Move prod's traffic to 50% on Kubernetes (step 3 of 3)?")
        assertThat(share).as('stopped at the last step, with no question that would move nothing').isEqualTo(50.0d)
        assertThat(cliCalls.findAll { it.argv[0] == 'cutover' }).hasSize(3)
    }

    /** revert: true is the emergency exit: one `cutover --revert`, outside the lock a stuck build may hold, and no question. */
    @Test
    void revertRunsOneCutoverRevertWithoutLockOrApproval() {
        share = 50
        answers.cutover = { Map e ->
            share = 0
            [command: 'cutover', stage: e.DD_STAGE, outcome: 'SUCCEEDED', router: ROUTER, before: null, after: 0.0d, traffic: [],
             reason: 'reverted as asked (--revert); traffic is back on legacy (read back 0% on kubernetes)']
        }

        runPipeline("dualDeployCutover(stage: 'prod', revert: true)")

        assertThat(cliCalls.find { it.argv[0] == 'cutover' }.argv).containsExactly('cutover', '--stage', 'prod', '--revert', '--junit',
                '.dualdeploy/cutover-prod-1.xml', '--output', 'json')
        assertThat(events).doesNotContain('lock dualdeploy/loan-api/prod')
        assertThat(inputs()).isEmpty()
        assertThat(share).isEqualTo(0.0d)
    }

    @Test
    void revertTakesNoOtherGoal() {
        for (String call : ["dualDeployCutover(stage: 'prod', revert: true, to: 25)", "dualDeployCutover(stage: 'prod', revert: true, next: true)",
                            "dualDeployCutover(stage: 'prod', revert: 'yes')"]) {
            setUp()
            Throwable thrown = catchThrowable { runPipeline(call) }
            assertThat(thrown).as(call).isNotNull()
            assertThat(cliCalls).as(call).isEmpty()
        }
    }
}
