package dev.dualdeploy.jenkins

import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

import static org.assertj.core.api.Assertions.assertThat
import static org.assertj.core.api.Assertions.catchThrowable

class SiblingStepsTest extends PipelineFixture {

    static final Map STATUS = [command: 'status', exitCode: 0, stages: [
            [stage: 'sandbox', parity: [status: 'PARITY', reason: 'all sides run aaaaaaaaaaaa'], sides: []],
            [stage: 'prod', parity: [status: 'DRIFT', reason: 'sides differ: legacy aaaaaaaaaaaa, kubernetes bbbbbbbbbbbb'], sides: []]]]

    @BeforeEach
    void setUp() {
        setUpPipeline()
    }

    @Test
    void statusPrintsAndReturnsTheStatusMap() {
        answers.status = { Map e -> STATUS }

        Map status = runPipeline("return dualDeployStatus(configFile: 'deploy/dualdeploy.yaml')") as Map

        assertThat(commands()).containsExactly('status')
        assertThat(cliCalls[0].env).containsEntry('DD_CONFIG', 'deploy/dualdeploy.yaml').doesNotContainKey('DD_CHECK')
        assertThat(cliCalls[0].argv).containsExactly('status', '--file', 'deploy/dualdeploy.yaml', '--output', 'json')
        assertThat(status.stages*.parity*.status).containsExactly('PARITY', 'DRIFT')
        assertThat(callsTo('echo')[0].args[0].toString()).isEqualTo("sandbox: PARITY (all sides run aaaaaaaaaaaa)\n"
                + "prod: DRIFT (sides differ: legacy aaaaaaaaaaaa, kubernetes bbbbbbbbbbbb)")
    }

    /** Issue 8 item 21: DRIFT with check: true names the stage and its sides with what each runs. */
    @Test
    void statusCheckFailsTheBuildOnDriftNamingTheStageAndSides() {
        answers.status = { Map e ->
            [command: 'status', exitCode: 3, stages: [
                    [stage: 'prod', parity: [status: 'DRIFT', reason: 'sides differ'], sides: [
                            [side: 'legacy', enabled: true, version: '1.4.1', digest: 'sha256:' + 'a' * 64, error: null],
                            [side: 'kubernetes', enabled: true, version: '1.4.2', digest: 'sha256:' + 'b' * 64, error: null]]]]]
        }

        Throwable failure = catchThrowable { runPipeline("dualDeployStatus(check: true, stage: 'prod')") }

        assertThat(cliCalls[0].argv).containsExactly('status', '--stage', 'prod', '--check', '--output', 'json')
        assertThat(failure).isInstanceOf(PipelineError).hasMessage('dualdeploy status --check failed (exit 3): DRIFT in prod:'
                + ' legacy runs 1.4.1 (aaaaaaaaaaaa), kubernetes runs 1.4.2 (bbbbbbbbbbbb)')
    }

    /** Issue 8 item 21: a side that cannot be read, with check: true, is named with the reason. */
    @Test
    void statusCheckFailsTheBuildOnAnUnreadableSide() {
        answers.status = { Map e ->
            [command: 'status', exitCode: 4, stages: [
                    [stage: 'beta', parity: [status: 'UNKNOWN', reason: 'legacy cannot be read'], sides: [
                            [side: 'legacy', enabled: true, version: null, digest: null, error: 'ECS did not answer within 10s'],
                            [side: 'kubernetes', enabled: true, version: '1.4.2', digest: 'sha256:' + 'b' * 64, error: null]]]]]
        }

        Throwable failure = catchThrowable { runPipeline("dualDeployStatus(check: true)") }

        assertThat(failure).hasMessage('dualdeploy status --check failed (exit 4): beta legacy cannot be read: ECS did not answer within 10s')
    }

    /** Issue 8 item 21: a missing config file (exit 2) fails the step, with or without check, and echoes nothing. */
    @Test
    void statusFailsOnAnyUndocumentedExit() {
        answers.status = { Map e ->
            [command: 'status', exitCode: 2, file: 'dualdeploy.yaml', valid: false,
             problems: [[path: '', problem: 'cannot read the file: it does not exist', example: '']]]
        }

        Throwable failure = catchThrowable { runPipeline("return dualDeployStatus()") }

        assertThat(failure).isInstanceOf(PipelineError)
                .hasMessage('dualdeploy status failed (exit 2): dualdeploy.yaml: cannot read the file: it does not exist')
        assertThat(callsTo('echo')).isEmpty()

        setUpPipeline()
        answers.status = { Map e -> [command: 'status', exitCode: 4, error: 'cannot reach the Kubernetes API at https://k8s:6443: connection refused'] }
        assertThat(catchThrowable { runPipeline("return dualDeployStatus()") })
                .hasMessage('dualdeploy status failed (exit 4): cannot reach the Kubernetes API at https://k8s:6443: connection refused')
    }

    @Test
    void rollbackRollsBackOneSideAndFailsWithTheReason() {
        answers.rollback = { Map e -> [command: 'rollback', exitCode: 0, outcome: 'SUCCEEDED', reason: 'rolled back kubernetes'] }
        Map result = runPipeline("return dualDeployRollback(stage: 'prod', side: 'kubernetes', credentials: [kubeconfig: 'kube'])") as Map
        assertThat(cliCalls[0].argv).containsExactly('rollback', '--stage', 'prod', '--side', 'kubernetes', '--output', 'json')
        assertThat(cliCalls[0].credentials).containsExactly([file: [credentialsId: 'kube', variable: 'KUBECONFIG']])
        assertThat(result.outcome).isEqualTo('SUCCEEDED')

        setUpPipeline()
        answers.rollback = { Map e -> [command: 'rollback', exitCode: 4, outcome: 'ROLLBACK_FAILED', reason: 'rollback failed: legacy: no previous release'] }
        Throwable failure = catchThrowable { runPipeline("dualDeployRollback(stage: 'prod')") }
        assertThat(cliCalls[0].env).as('no side: the CLI rolls back the sides the stage deploys to').doesNotContainKey('DD_SIDE')
        assertThat(failure).hasMessageContaining('dualdeploy rollback of prod failed (exit 4): rollback failed: legacy: no previous release')
    }

    /** Review item 16: a rollback waits for the stage's lease with waitLock, and fails fast without it. */
    @Test
    void rollbackPassesWaitLockOnlyWhenGiven() {
        answers.rollback = { Map e -> [command: 'rollback', exitCode: 0, outcome: 'SUCCEEDED', reason: 'rolled back'] }
        runPipeline("dualDeployRollback(stage: 'prod', waitLock: '1m30s')")
        assertThat(cliCalls[0].argv).containsExactly('rollback', '--stage', 'prod', '--wait-lock', '1m30s', '--output', 'json')

        setUpPipeline()
        answers.rollback = { Map e -> [command: 'rollback', exitCode: 0, outcome: 'SUCCEEDED', reason: 'rolled back'] }
        runPipeline("dualDeployRollback(stage: 'prod')")
        assertThat(cliCalls[0].argv).doesNotContain('--wait-lock')

        setUpPipeline()
        Throwable failure = catchThrowable { runPipeline("dualDeployRollback(stage: 'prod', waitLock: '5m --no-rollback')") }
        assertThat(failure).hasMessage("dualdeploy: waitLock: '5m --no-rollback' is not a duration: digits and a unit (ms, s, m, h),"
                + " such as '10m', from 0s to 1h")
        assertThat(cliCalls).isEmpty()
    }

    /** Issue 8 item 6: a stage or side that is not a name fails before it becomes a path, and nothing runs. */
    @Test
    void rollbackRefusesAStageOrSideThatIsNotAName() {
        Map refused = ['../../../x'         : "dualdeploy: '../../../x' is not a stage name",
                       'prod\nx'            : "dualdeploy: 'prod\\nx' is not a stage name",
                       'Prod'               : "dualdeploy: 'Prod' is not a stage name",
                       ('a' * 64)           : "dualdeploy: '${'a' * 64}' is not a stage name"]
        refused.each { String stage, String message ->
            setUpPipeline()
            binding.setVariable('stageName', stage)
            Throwable failure = catchThrowable { runPipeline("dualDeployRollback(stage: stageName)") }
            assertThat(failure).as(stage).isInstanceOf(PipelineError).hasMessageStartingWith(message.toString())
            assertThat(cliCalls).as(stage).isEmpty()
        }
        assertThat(workspace.parent.parent.resolve('x.json').toFile()).doesNotExist()

        setUpPipeline()
        Throwable side = catchThrowable { runPipeline("dualDeployRollback(stage: 'prod', side: 'sideways')") }
        assertThat(side).hasMessage("dualdeploy: 'sideways' is not a side: legacy, kubernetes or both")
        assertThat(cliCalls).isEmpty()
    }

    @Test
    void rollbackWithoutAStageIsAClearError() {
        Throwable failure = catchThrowable { runPipeline("dualDeployRollback(side: 'legacy')") }

        assertThat(failure).hasMessageContaining('dualDeployRollback needs stage:')
        assertThat(cliCalls).isEmpty()
    }

    @Test
    void aRunnerErrorBeforeTheCliRanFailsWithItsMessage() {
        answers.status = { Map e -> [command: 'status', exitCode: 2, error: 'cannot find the dualdeploy CLI 0.1.0-SNAPSHOT: set the step\'s cli: parameter'] }

        Throwable failure = catchThrowable { runPipeline("dualDeployStatus()") }

        assertThat(failure).hasMessageContaining('dualdeploy status failed (exit 2): cannot find the dualdeploy CLI')
    }
}
