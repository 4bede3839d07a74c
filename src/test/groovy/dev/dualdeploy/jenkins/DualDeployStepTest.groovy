package dev.dualdeploy.jenkins

import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

import static org.assertj.core.api.Assertions.assertThat
import static org.assertj.core.api.Assertions.catchThrowable

class DualDeployStepTest extends PipelineFixture {

    @BeforeEach
    void setUp() {
        setUpPipeline()
    }

    @Test
    void mainDeploysEveryStageInOrderWithLockMilestoneAndProdApproval() {
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')")

        assertThat(commands()).containsExactly('stages', 'release', 'deploy sandbox', 'deploy preprod', 'deploy beta', 'plan prod',
                'approval prod', 'approval prod', 'deploy prod')
        assertThat(cliCalls[0].argv).containsExactly('stages', '--branch', 'main', '--output', 'json')
        assertThat(cliCalls[1].argv).containsExactly('release', '--image', 'registry.example.com/loan-api:1.4.2', '--output', 'json')
        assertThat(cliCalls[2].argv).containsExactly('deploy', '--stage', 'sandbox', '--image', PINNED, '--release-version', '1.4.2', '--junit',
                '.dualdeploy/gate-sandbox.xml', '--output', 'json')
        assertThat(cliCalls[5].argv).containsExactly('plan', '--stage', 'prod', '--image', PINNED, '--release-version', '1.4.2', '--output', 'json')
        assertThat(cliCalls[6].argv).containsExactly('approval', '--stage', 'prod', '--asked', '--submitters', 'sre', '--timeout', '1440m',
                '--plan', 'Deploy 1.4.2 to prod?\nlegacy (ecs prod/loan-api): 1.4.1 → 1.4.2\nkubernetes (loan/loan-api in prod): 1.4.1 → 1.4.2',
                '--output', 'json')
        assertThat(cliCalls[7].argv).containsExactly('approval', '--stage', 'prod', '--approved', '--output', 'json')
        assertThat(cliCalls[8].argv).containsExactly('deploy', '--stage', 'prod', '--image', PINNED, '--release-version', '1.4.2', '--junit',
                '.dualdeploy/gate-prod.xml', '--output', 'json')
        assertThat(cliCalls[0].env).containsEntry('DD_BRANCH', 'main').containsEntry('DD_CLI_VERSION', '0.1.0-SNAPSHOT')
        assertThat(cliCalls[1].env).containsEntry('DD_IMAGE', 'registry.example.com/loan-api:1.4.2')
        assertThat(cliCalls.drop(2).findAll { it.env.DD_COMMAND != 'approval' }*.env*.DD_IMAGE).containsOnly(PINNED)
        assertThat(cliCalls*.script).containsOnly(RUNNER)
        assertThat(callsTo('stage')*.args*.getAt(0)).containsExactly('sandbox', 'preprod', 'beta', 'prod')
        assertThat(callsTo('lock')*.args*.getAt(0)*.resource*.toString())
                .containsExactly('dualdeploy/loan-api/sandbox', 'dualdeploy/loan-api/preprod', 'dualdeploy/loan-api/beta', 'dualdeploy/loan-api/prod')
        assertThat(callsTo('milestone')).hasSize(4)
        assertThat(callsTo('input')).hasSize(1)
        assertThat(callsTo('input')[0].args[0]).containsEntry('submitter', 'sre').containsEntry('ok', 'Deploy')
                .containsEntry('submitterParameter', 'APPROVER')
        assertThat(callsTo('timeout')[0].args[0]).containsEntry('time', 1440).containsEntry('unit', 'MINUTES')
        assertThat(binding.getVariable('currentBuild').description.toString()).isEqualTo('loan-api 1.4.2 → prod · ecs+k8s')
        assertThat(callsTo('archiveArtifacts')[0].args[0]).containsEntry('artifacts', '.dualdeploy/*.json, .dualdeploy/journal/**')
        assertThat(shellCalls).as('no shell but the runner').isEmpty()
    }

    /** Issue 8 item 23: the approval guards the stage's entry, shows the plan, and is asked outside the stage's lock. */
    @Test
    void approvalIsAskedBeforeTheStageDeploysOutsideItsLockAndShowsWhatWillChange() {
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')")

        assertThat(events.drop(events.indexOf('unlock dualdeploy/loan-api/beta') + 1)).containsExactly(
                'plan prod', 'approval prod', 'input', 'approval prod', 'lock dualdeploy/loan-api/prod', 'deploy prod',
                'unlock dualdeploy/loan-api/prod')
        assertThat(callsTo('input')[0].args[0].message.toString()).isEqualTo('Deploy 1.4.2 to prod?\n'
                + 'legacy (ecs prod/loan-api): 1.4.1 → 1.4.2\n'
                + 'kubernetes (loan/loan-api in prod): 1.4.1 → 1.4.2')
        assertThat(callsTo('input')[0].args[0]).containsEntry('submitter', 'sre')
        assertThat(callsTo('timeout')*.args*.getAt(0)).containsExactly([time: 1440, unit: 'MINUTES'])
    }

    /** Issue 8 item 23: aborting the approval (input throws) leaves the stage undeployed. */
    @Test
    void abortingTheApprovalLeavesTheStageUndeployed() {
        answers.stages = { Map e -> chain(['sandbox', 'prod'], [submitter: 'release-managers', timeoutMinutes: 90]) }
        helper.registerAllowedMethod('input', [Map]) { Map m -> events << 'input'; throw new PipelineError('Aborted by alice') }

        Throwable failure = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')") }

        assertThat(failure).hasMessage('Aborted by alice')
        assertThat(commands()).containsExactly('stages', 'release', 'deploy sandbox', 'plan prod', 'approval prod', 'approval prod')
        assertThat(cliCalls[-1].argv).containsExactly('approval', '--stage', 'prod', '--rejected', '--reason', 'Aborted by alice',
                '--output', 'json')
        assertThat(events).doesNotContain('deploy prod', 'lock dualdeploy/loan-api/prod')
        assertThat(callsTo('input')[0].args[0]).containsEntry('submitter', 'release-managers')
        assertThat(callsTo('timeout')[0].args[0]).containsEntry('time', 90)
    }

    /** Issue 8 item 23: a side already on the release, and a side toggled off, say so in the approval. */
    @Test
    void theApprovalSaysWhichSidesDoNotChange() {
        answers.stages = { Map e -> chain(['prod']) }
        answers.plan = { Map e ->
            planned('prod', '1.4.2') + [sides: [[side: 'legacy', target: 'legacy', action: 'SKIP', current: null],
                                                [side: 'kubernetes', target: 'loan/loan-api', action: 'NO_CHANGE', current: [version: '1.4.2']]]]
        }

        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', legacy: false)")

        assertThat(cliCalls[2].argv).contains('--legacy=false')
        assertThat(callsTo('input')[0].args[0].message.toString()).isEqualTo('Deploy 1.4.2 to prod?\n'
                + 'legacy (legacy): not deployed (toggled off)\n'
                + 'kubernetes (loan/loan-api): 1.4.2, no change')
    }

    @Test
    void eachStageCostsTheControllerAtMostTwelveSteps() {
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', credentials: [kubeconfig: 'kube', aws: 'aws'])")

        Set<String> vocabulary = ['stage', 'milestone', 'lock', 'withEnv', 'withCredentials', 'file', 'usernamePassword', 'sh',
                                  'readFile', 'libraryResource', 'timeout', 'input', 'echo', 'error', 'archiveArtifacts', 'properties',
                                  'parameters', 'booleanParam', 'choice', 'string'] as Set
        List steps = helper.callStack.findAll { vocabulary.contains(it.methodName) }
        int firstStage = steps.findIndexOf { it.methodName == 'stage' }
        List perStage = steps.drop(firstStage).findAll { it.methodName != 'archiveArtifacts' }
        println "pipeline steps: ${steps.size()} in all, ${perStage.size()} in 4 stages: ${perStage*.methodName.countBy { it }}"
        // The stage with an approval journals its question and its answer: two CLI calls more than the others.
        assertThat((perStage.size() / 4.0) as double).as('steps per stage').isLessThanOrEqualTo(14.0d)
    }

    @Test
    void credentialsAreBoundAroundTheCliCallOnly() {
        binding.getVariable('env').GIT_COMMIT = '0123456789abcdef0123'
        runPipeline("dualDeploy(build: [context: 'app', dockerfile: 'Dockerfile'], credentials: [kubeconfig: 'kube-prod', aws: 'aws-deployer'])")

        List expected = [[file: [credentialsId: 'kube-prod', variable: 'KUBECONFIG']],
                         [usernamePassword: [credentialsId: 'aws-deployer', usernameVariable: 'AWS_ACCESS_KEY_ID', passwordVariable: 'AWS_SECRET_ACCESS_KEY']]]
        assertThat(cliCalls).hasSize(9)
        cliCalls.each { call -> assertThat(call.credentials).isEqualTo(expected) }
        assertThat(shellCalls).hasSize(1)
        Map build = shellCalls[0]
        assertThat(build.script).isEqualTo(BUILD)
        assertThat(build.env).as('the config image, tagged with the commit')
                .containsEntry('DD_TAG', 'registry.example.com/loan-api:0123456789ab').containsEntry('DD_CONTEXT', 'app')
        assertThat(build.credentials).as('no deploy credential reaches docker').isEmpty()
        assertThat(dockerCalls()).containsExactly('build -t registry.example.com/loan-api:0123456789ab -f Dockerfile app',
                'push registry.example.com/loan-api:0123456789ab')
        assertThat(cliCalls[1].env).containsEntry('DD_IMAGE', 'registry.example.com/loan-api:0123456789ab@' + PUSHED)
    }

    /**
     * Issue 8 item 25: build once, resolve once. The stub docker's push reports digest A while the registry's tag
     * meanwhile points at B (another build pushed the same tag): the release deployed is A.
     */
    @Test
    void theDigestComesFromThePushNotFromTheTagAfterwards() {
        String a = 'sha256:' + '1' * 64
        String b = 'sha256:' + '2' * 64
        pushDigest = a
        binding.getVariable('env').GIT_COMMIT = '0123456789abcdef0123'
        answers.stages = { Map e -> chain(['sandbox']) }
        answers.release = { Map e ->
            // The registry: a digest resolves to itself, the tag to whatever was pushed under it last (B).
            String digest = e.DD_IMAGE.contains('@') ? e.DD_IMAGE.substring(e.DD_IMAGE.indexOf('@') + 1) : b
            [command: 'release', exitCode: 0, image: 'registry.example.com/loan-api@' + digest, tag: '0123456789ab', digest: digest]
        }

        runPipeline("dualDeploy(build: [context: '.'])")

        assertThat(cliCalls[1].env.DD_IMAGE).isEqualTo('registry.example.com/loan-api:0123456789ab@' + a)
        assertThat(cliCalls[2].env.DD_IMAGE).as('the release deployed').isEqualTo('registry.example.com/loan-api@' + a)
        assertThat(workspace.resolve('.dualdeploy/built-image').toFile().text.trim()).isEqualTo('registry.example.com/loan-api:0123456789ab@' + a)
    }

    /** Issue 8 item 25: without a version or a commit the build is tagged with BUILD_TAG, never latest; with none, an error. */
    @Test
    void aBuildIsNeverTaggedLatest() {
        binding.getVariable('env').BUILD_TAG = 'jenkins-loan api/main-42'
        answers.stages = { Map e -> chain(['sandbox']) }
        runPipeline("dualDeploy(build: [context: '.'])")
        assertThat(dockerCalls()).containsExactly('build -t registry.example.com/loan-api:jenkins-loan-api-main-42 -f Dockerfile .',
                'push registry.example.com/loan-api:jenkins-loan-api-main-42')

        setUpPipeline()
        Throwable none = catchThrowable { runPipeline("dualDeploy(build: [context: '.'])") }
        assertThat(none).isInstanceOf(PipelineError).hasMessageStartingWith('dualDeploy build: needs a tag that names this build')
                .hasMessageContaining("it never pushes 'latest'")
        assertThat(dockerCalls()).isEmpty()
        assertThat(commands()).containsExactly('stages')
    }

    /** Issue 8 item 25: a push that reports no digest fails the build; the tag is not resolved afterwards. */
    @Test
    void aPushWithoutADigestFailsTheBuild() {
        pushDigest = null
        binding.getVariable('env').GIT_COMMIT = '0123456789abcdef0123'

        Throwable failure = catchThrowable { runPipeline("dualDeploy(build: [context: '.'])") }

        assertThat(failure).hasMessageContaining('script returned exit code 2')
                .hasMessageContaining('docker push of registry.example.com/loan-api:0123456789ab reported no digest')
        assertThat(commands()).as('no release by tag').containsExactly('stages')
    }

    @Test
    void aPullRequestGetsItsChain() {
        setUpPipeline([BRANCH_NAME: 'PR-7', CHANGE_ID: '7'])
        answers.stages = { Map e -> chain(['sandbox']) }

        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')")

        assertThat(cliCalls[0].env).containsEntry('DD_BRANCH', 'PR-7').containsEntry('DD_CHANGE_ID', '7')
        assertThat(commands()).containsExactly('stages', 'release', 'deploy sandbox')
    }

    @Test
    void anUnmatchedBranchDeploysNothingAndSaysSoInOneLine() {
        setUpPipeline([BRANCH_NAME: 'feature/x'])
        answers.stages = { Map e -> [command: 'stages', exitCode: 0, service: 'loan-api', stages: [],
                                     message: "branch 'feature/x' matches no entry of branches: in dualdeploy.yaml; nothing to deploy"] }

        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')")

        assertThat(commands()).containsExactly('stages')
        assertThat(callsTo('echo')*.args*.getAt(0)*.toString())
                .containsExactly("branch 'feature/x' matches no entry of branches: in dualdeploy.yaml; nothing to deploy")
        assertThat(callsTo('stage')).isEmpty()
    }

    @Test
    void buildParametersAreDeclaredAndOverrideTheStepAndTheConfig() {
        binding.setVariable('params', [DEPLOY_LEGACY: 'false', DEPLOY_KUBERNETES: 'true', STOP_AFTER_STAGE: 'preprod',
                                       IMAGE: 'registry.example.com/loan-api:hotfix'])
        answers.stages = { Map e -> chain(['sandbox', 'preprod']) }

        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', legacy: true, parameters: true)")

        List declared = callsTo('properties')[0].args[0][0].parameters
        assertThat(declared*.keySet()*.getAt(0)).containsExactly('choice', 'choice', 'choice', 'string')
        assertThat(declared[0].choice).containsEntry('name', 'DEPLOY_LEGACY').containsEntry('choices', ['as configured', 'true', 'false'])
        assertThat(declared[0].choice.description.toString()).isEqualTo("Deploy to the legacy side (ECS); as configured: the step's legacy: true")
        assertThat(declared[1].choice.description.toString()).isEqualTo("Deploy to Kubernetes; as configured: the config's deploy: toggle of each stage")
        assertThat(declared[2].choice.choices).isEqualTo(['', 'sandbox', 'preprod'])
        assertThat(cliCalls[0].env).containsEntry('DD_STOP_AFTER', 'preprod')
        assertThat(cliCalls[1].env).containsEntry('DD_IMAGE', 'registry.example.com/loan-api:hotfix')
        assertThat(cliCalls[2].env).containsEntry('DD_LEGACY', 'false').containsEntry('DD_KUBERNETES', 'true')
        assertThat(cliCalls[0].argv).containsExactly('stages', '--branch', 'main', '--stop-after', 'preprod', '--output', 'json')
        assertThat(cliCalls[2].argv).containsExactly('deploy', '--stage', 'sandbox', '--image', PINNED, '--release-version', '1.4.2', '--legacy=false',
                '--kubernetes=true', '--junit', '.dualdeploy/gate-sandbox.xml', '--output', 'json')
    }

    /**
     * Issue 8 item 19: the step's legacy: false holds on the first build (no parameters yet) and on later builds (the
     * declared default), and only a value a person chose overrides it.
     */
    @Test
    void theStepsToggleHoldsOnTheFirstAndLaterBuildsUnlessAPersonChoosesOtherwise() {
        Map<String, List<String>> legacyFlags = [:]
        Map<String, Map> builds = ['first build'           : [:],
                                   'later build'           : [DEPLOY_LEGACY: 'as configured', DEPLOY_KUBERNETES: 'as configured',
                                                              STOP_AFTER_STAGE: '', IMAGE: ''],
                                   'older checkbox default': [DEPLOY_LEGACY: true, DEPLOY_KUBERNETES: true],
                                   'a person chose true'   : [DEPLOY_LEGACY: 'true', DEPLOY_KUBERNETES: 'as configured']]
        builds.each { String build, Map params ->
            setUpPipeline()
            answers.stages = { Map e -> chain(['sandbox']) }
            binding.setVariable('params', params)
            runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', legacy: false, parameters: true)")
            legacyFlags[build] = cliCalls[2].argv.findAll { it.startsWith('--legacy') || it.startsWith('--kubernetes') }
        }

        assertThat(legacyFlags).isEqualTo(['first build'           : ['--legacy=false'],
                                           'later build'           : ['--legacy=false'],
                                           'older checkbox default': ['--legacy=false'],
                                           'a person chose true'   : ['--legacy=true']])
    }

    /**
     * Issue 8 item 24: one version label, computed once: with a pinned image plus version:, the version: everywhere
     * (not the digest in the description); with neither a version nor a tag, the short digest everywhere.
     */
    @Test
    void aPinnedImageWithAVersionIsLabelledWithTheVersionEverywhere() {
        Map pinned = [command: 'release', exitCode: 0, image: PINNED, tag: null, digest: DIGEST]
        answers.stages = { Map e -> chain(['prod']) }
        answers.release = { Map e -> pinned }

        runPipeline("dualDeploy(image: '${PINNED}', version: '2.0.1')")

        assertThat(cliCalls[2].argv).containsSequence('--release-version', '2.0.1')
        assertThat(cliCalls[5].argv).containsSequence('--release-version', '2.0.1')
        assertThat(callsTo('input')[0].args[0].message.toString()).startsWith('Deploy 2.0.1 to prod?\n')
                .contains('legacy (ecs prod/loan-api): 1.4.1 → 2.0.1')
        assertThat(binding.getVariable('currentBuild').description.toString()).isEqualTo('loan-api 2.0.1 → prod · ecs+k8s')

        setUpPipeline()
        answers.stages = { Map e -> chain(['prod']) }
        answers.release = { Map e -> pinned }
        runPipeline("dualDeploy(image: '${PINNED}')")
        assertThat(cliCalls[5].argv).containsSequence('--release-version', 'aaaaaaaaaaaa')
        assertThat(callsTo('input').last().args[0].message.toString()).startsWith('Deploy aaaaaaaaaaaa to prod?\n')
        assertThat(binding.getVariable('currentBuild').description.toString()).isEqualTo('loan-api aaaaaaaaaaaa → prod · ecs+k8s')
    }

    /** Issue 8 item 24: a built image is labelled with its tag on the platforms, in the approval and in the description. */
    @Test
    void aBuiltImageIsLabelledWithItsTagEverywhere() {
        Map built = [command: 'release', exitCode: 0, image: PINNED, tag: '0123456789ab', digest: DIGEST]
        binding.getVariable('env').GIT_COMMIT = '0123456789abcdef0123'
        answers.stages = { Map e -> chain(['prod']) }
        answers.release = { Map e -> built }

        runPipeline("dualDeploy(build: [context: '.'])")

        assertThat(cliCalls[2].argv).containsSequence('--release-version', '0123456789ab')
        assertThat(cliCalls[5].argv).containsSequence('--release-version', '0123456789ab')
        assertThat(callsTo('input')[0].args[0].message.toString()).startsWith('Deploy 0123456789ab to prod?\n')
        assertThat(binding.getVariable('currentBuild').description.toString()).isEqualTo('loan-api 0123456789ab → prod · ecs+k8s')
    }

    @Test
    void configKeysGivenToTheStepReachTheCliAsAnOverrideOfTheFile() {
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', configFile: 'deploy/dualdeploy.yaml',"
                + " service: 'loan-api-eu', branches: [main: ['sandbox']])")

        assertThat(cliCalls[0].env).containsEntry('DD_CONFIG', 'deploy/dualdeploy.yaml')
                .containsEntry('DD_OVERRIDE', '{"service":"loan-api-eu","branches":{"main":["sandbox"]}}')
        assertThat(cliCalls[0].argv).containsExactly('stages', '--file', 'deploy/dualdeploy.yaml',
                '--override', '{"service":"loan-api-eu","branches":{"main":["sandbox"]}}', '--branch', 'main', '--output', 'json')
        assertThat(cliCalls[1].env).as('release reads no config').doesNotContainKeys('DD_OVERRIDE', 'DD_CONFIG')
        assertThat(cliCalls[2].env).containsKey('DD_OVERRIDE')
    }

    @Test
    void aFailingStageFailsTheBuildWithItsReasonAndLaterStagesDoNotRun() {
        answers.deploy = { Map e ->
            e.DD_STAGE == 'preprod'
                    ? [command: 'deploy', exitCode: 1, stage: 'preprod', outcome: 'ROLLED_BACK',
                       reason: 'kubernetes FAILED: pod loan-api-1 container app: CrashLoopBackOff; rolled back to the previous release']
                    : deployed(e.DD_STAGE)
        }

        Throwable failure = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')") }

        assertThat(failure).hasMessageContaining('dualdeploy deploy to preprod failed (exit 1): kubernetes FAILED: pod loan-api-1'
                + ' container app: CrashLoopBackOff; rolled back to the previous release')
        assertThat(commands()).containsExactly('stages', 'release', 'deploy sandbox', 'deploy preprod')
        assertThat(callsTo('stage')*.args*.getAt(0)).containsExactly('sandbox', 'preprod')
    }

    /**
     * Issue 8 item 22 and issue 9: the results of a failed build, and the journal of its runs, are archived too, after
     * the stage that failed.
     */
    @Test
    void aFailingDeployStillArchivesItsResults() {
        answers.deploy = { Map e -> [command: 'deploy', exitCode: 1, stage: e.DD_STAGE, outcome: 'ROLLED_BACK', reason: 'gate FAIL'] }

        Throwable failure = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')") }

        assertThat(failure).hasMessageContaining('dualdeploy deploy to sandbox failed (exit 1): gate FAIL')
        assertThat(callsTo('archiveArtifacts')*.args*.getAt(0))
                .containsExactly([artifacts: '.dualdeploy/*.json, .dualdeploy/journal/**', allowEmptyArchive: true])
        assertThat(helper.callStack.findLastIndexOf { it.methodName == 'archiveArtifacts' })
                .as('archived after the failing deploy').isGreaterThan(helper.callStack.findLastIndexOf { it.methodName == 'sh' })
        assertThat(workspace.resolve('.dualdeploy/deploy-sandbox.json').toFile().text).contains('ROLLED_BACK')
    }

    @Test
    void aFailedGatesChecksArePublishedAsTestResultsBeforeTheBuildFails() {
        answers.deploy = { Map e ->
            e.DD_STAGE == 'preprod'
                    ? [command: 'deploy', exitCode: 1, stage: 'preprod', outcome: 'ROLLED_BACK', reason: 'gate FAIL: sequential error_rate',
                       writes: [(e.DD_JUNIT): '<testsuites/>']]
                    : deployed(e.DD_STAGE)
        }

        Throwable failure = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')") }

        assertThat(failure).hasMessageContaining('dualdeploy deploy to preprod failed (exit 1): gate FAIL: sequential error_rate')
        assertThat(callsTo('junit')*.args*.getAt(0)).containsExactly([testResults: '.dualdeploy/gate-preprod.xml', allowEmptyResults: true])
    }

    /** Issue 8 item 20: a CLI that rejects a value and writes no result fails the step with a reason, not in the JSON parser. */
    @Test
    void aCliThatWritesNoResultFailsWithAReason() {
        answers.deploy = { Map e -> [exitCode: 2, raw: ''] }

        Throwable failure = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', legacy: 'yes')") }

        assertThat(cliCalls[2].argv).contains('--legacy=yes')
        assertThat(failure).isInstanceOf(PipelineError)
                .hasMessage('dualdeploy deploy to sandbox failed (exit 2): dualdeploy deploy exited 2 and wrote no result; see the log above')
    }

    /** Issue 8 item 20: a result that is missing or not JSON is a clear error too (the runner itself could not run). */
    @Test
    void aMissingOrNonJsonResultIsAClearError() {
        answers.release = { Map e -> [exitCode: 2, raw: 'Usage: dualdeploy release [-hV] --image=REF\n'] }
        Throwable notJson = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')") }
        assertThat(notJson).isInstanceOf(PipelineError)
                .hasMessage('dualdeploy release failed (exit 2) and wrote no result; see the log above')

        setUpPipeline()
        answers.stages = { Map e -> [exitCode: 2, dropResult: true] }
        Throwable missing = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')") }
        assertThat(missing).isInstanceOf(PipelineError)
                .hasMessage('dualdeploy stages failed (exit 2) and wrote no result; see the log above')
    }

    /** Issue 8 item 20: config problems are shown themselves, one line each, not "see the log above". */
    @Test
    void configProblemsAreShownOneLineEach() {
        answers.stages = { Map e ->
            [command: 'stages', exitCode: 2, file: 'dualdeploy.yaml', valid: false, problems: [
                    [path: 'stages[0].kubernetes.namespace', problem: 'missing required key', example: 'namespace: loan'],
                    [path: 'servce', problem: 'unknown key; expected one of [branches, image, service, stages]', example: '']]]
        }

        Throwable failure = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')") }

        assertThat(failure).hasMessage('dualdeploy stages failed (exit 2): 2 problems in the config:\n'
                + 'dualdeploy.yaml: stages[0].kubernetes.namespace: missing required key (for example: namespace: loan)\n'
                + 'dualdeploy.yaml: servce: unknown key; expected one of [branches, image, service, stages]')
    }

    @Test
    void aGateReportLeftByAnEarlierBuildIsNeverPublishedAndGateFalseSkipsTheGate() {
        workspace.resolve('.dualdeploy').toFile().mkdirs()
        workspace.resolve('.dualdeploy/gate-sandbox.xml').toFile().text = '<testsuites/>'

        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', stages: ['sandbox'], gate: false)")

        assertThat(callsTo('junit')).isEmpty()
        assertThat(workspace.resolve('.dualdeploy/gate-sandbox.xml').toFile().exists()).isFalse()
        assertThat(cliCalls[2].argv).containsExactly('deploy', '--stage', 'sandbox', '--image', PINNED, '--release-version', '1.4.2', '--no-gate', '--junit',
                '.dualdeploy/gate-sandbox.xml', '--output', 'json')
    }

    /** Issue 8 item 7: manifests outside the config's directory only when the step says so, and never for release. */
    @Test
    void allowOutsideManifestsReachesEveryConfigCommandOnlyWhenTheStepSaysSo() {
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', stages: ['sandbox'], allowOutsideManifests: true)")

        List<String> allowed = cliCalls.findAll { it.argv.contains('--allow-outside-manifests') }.collect { it.argv[0] }
        assertThat(allowed).containsExactlyElementsOf(cliCalls.collect { it.argv[0] }.findAll { it != 'release' })
        assertThat(allowed).contains('stages', 'deploy')
        assertThat(cliCalls.collect { it.env.DD_OVERRIDE ?: '' }.findAll { it.contains('allowOutsideManifests') }).isEmpty()

        cliCalls.clear()
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', stages: ['sandbox'])")
        assertThat(cliCalls).isNotEmpty()
        assertThat(cliCalls.findAll { it.argv.contains('--allow-outside-manifests') }).isEmpty()
    }

    /** Review item 16: waitLock reaches deploy as --wait-lock, and nothing else; unset, the deploy fails fast. */
    @Test
    void waitLockReachesTheDeployAsWaitLockOnlyWhenGiven() {
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', stages: ['sandbox'], waitLock: '10m')")

        List deploys = cliCalls.findAll { it.argv[0] == 'deploy' }
        assertThat(deploys).isNotEmpty()
        deploys.each { assertThat(it.argv).containsSequence('--wait-lock', '10m') }
        assertThat(cliCalls.findAll { it.argv.contains('--wait-lock') }).as('only deploy takes the lease').containsExactlyElementsOf(deploys)
        assertThat(cliCalls.collect { it.env.DD_OVERRIDE ?: '' }.findAll { it.contains('waitLock') }).isEmpty()

        cliCalls.clear()
        runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', stages: ['sandbox'])")
        assertThat(cliCalls.find { it.argv[0] == 'deploy' }).isNotNull()
        assertThat(cliCalls.findAll { it.argv.contains('--wait-lock') }).isEmpty()
    }

    @Test
    void aWaitLockThatIsNoDurationIsRefusedBeforeAnythingRuns() {
        ['10 m', '10m\n--no-rollback', '10m; id', '$(id)', 'soon', '10', '-1m', 10].each { def bad ->
            setUpPipeline()
            binding.setVariable('waitLock', bad)
            Throwable failure = catchThrowable {
                runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2', stages: ['sandbox'], waitLock: waitLock)")
            }
            assertThat(failure).as(bad.toString()).isInstanceOf(PipelineError).hasMessageStartingWith('dualdeploy: waitLock: ')
                    .hasMessageContaining('is not a duration').hasMessageNotContaining('\n--no')
            assertThat(cliCalls).as(bad.toString()).isEmpty()
        }
    }

    @Test
    void hostileValuesReachTheRunnerAsEnvironmentValuesAndNeverAsShellText() {
        Map hostile = [image     : 'registry.example.com/loan-api:1.0$(touch pwned)',
                       version   : '1.0`id`; rm -rf /',
                       configFile: "it's \"dual\".yaml\nsecond line",
                       stages    : ['sandbox ${env.SECRET}'],
                       cli       : '/opt/dual deploy/cli.jar; echo pwned']
        answers.stages = { Map e -> chain(['sandbox']) }
        String args = hostile.collect { k, v -> "${k}: ${v instanceof List ? '[' + quote(v[0]) + ']' : quote(v)}" }.join(', ')

        runPipeline("dualDeploy(${args})")

        assertThat(cliCalls*.script).containsOnly(RUNNER)
        assertThat(shellCalls).isEmpty()
        assertThat(cliCalls[0].env).containsEntry('DD_ONLY', 'sandbox ${env.SECRET}').containsEntry('DD_CONFIG', "it's \"dual\".yaml\nsecond line")
                .containsEntry('DD_CLI', '/opt/dual deploy/cli.jar; echo pwned')
        assertThat(cliCalls[1].env).containsEntry('DD_IMAGE', 'registry.example.com/loan-api:1.0$(touch pwned)')
        assertThat(cliCalls[2].env).containsEntry('DD_VERSION', '1.0`id`; rm -rf /').containsEntry('DD_STAGE', 'sandbox')
        assertThat(cliCalls[0].argv).containsExactly('stages', '--file', "it's \"dual\".yaml\nsecond line", '--branch', 'main',
                '--only', 'sandbox ${env.SECRET}', '--output', 'json')
        assertThat(cliCalls[2].argv).containsExactly('deploy', '--file', "it's \"dual\".yaml\nsecond line", '--stage', 'sandbox',
                '--image', PINNED, '--release-version', '1.0`id`; rm -rf /', '--junit', '.dualdeploy/gate-sandbox.xml',
                '--output', 'json')
        assertThat(new File(workspace.toFile(), 'pwned')).as('nothing else ran').doesNotExist()
    }

    /** Issue 8 item 6: a stage name from the chain that is not a name fails before it becomes a result's path. */
    @Test
    void aStageThatIsNotANameIsRefusedBeforeItBecomesAPath() {
        answers.stages = { Map e -> chain(['sandbox', '../../escape']) }

        Throwable failure = catchThrowable { runPipeline("dualDeploy(image: 'registry.example.com/loan-api:1.4.2')") }

        assertThat(failure).isInstanceOf(PipelineError).hasMessage("dualdeploy: '../../escape' is not a stage name: lower-case"
                + ' letters, digits and -, at most 63, starting and ending with a letter or digit (for example preprod)')
        assertThat(commands()).containsExactly('stages', 'release', 'deploy sandbox')
        assertThat(workspace.parent.resolve('escape.json').toFile()).doesNotExist()
    }

    private static String quote(String value) {
        // A Groovy single-quoted literal: no interpolation in the test's own Jenkinsfile either.
        "'" + value.replace('\\', '\\\\').replace("'", "\\'").replace('\n', '\\n') + "'"
    }
}
