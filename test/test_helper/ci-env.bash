# Each CI's environment, for the suites that run promrun-ci and the CI
# snippets (60-ci-hook, 83-serve-clients): ci_env_clear in setup, then one
# of github_env, gitlab_env, jenkins_env in a test.

# ci_env_clear: whatever CI runs the suite, the hook sees only what a test
# gives it.
ci_env_clear() {
	local v
	for v in $(compgen -e); do
		case $v in
		GITHUB_* | RUNNER_* | GITLAB_* | CI_* | JENKINS_* | BUILD_* | \
		    JOB_* | BRANCH_NAME | GIT_* | NODE_NAME | PROMRUN_CI_*)
			unset "$v" ;;
		esac
	done
}

github_env() {
	export GITHUB_ACTIONS=true GITHUB_WORKFLOW=CI GITHUB_JOB=build \
	    GITHUB_RUN_ID=6123456789 GITHUB_RUN_ATTEMPT=2 \
	    GITHUB_REPOSITORY=octo-org/app GITHUB_REF_NAME=main \
	    RUNNER_NAME='runner 7'
}

gitlab_env() {
	export GITLAB_CI=true CI_JOB_NAME='unit tests' CI_JOB_ID=4242 \
	    CI_JOB_STATUS=success CI_PROJECT_PATH=group/sub/app \
	    CI_COMMIT_REF_NAME=feature/x CI_RUNNER_DESCRIPTION='docker runner'
}

jenkins_env() {
	export JENKINS_URL=https://jenkins.example/ JOB_NAME=app \
	    BUILD_NUMBER=153 BUILD_TAG=jenkins-app-153 NODE_NAME=agent-1 \
	    GIT_URL=https://github.com/org/app.git GIT_BRANCH=origin/main
}
