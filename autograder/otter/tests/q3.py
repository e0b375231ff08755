from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=1, hidden=False)
def test_q3_output(env):
    from autograder.notebook import assert_check
    assert_check('q3.output', env)

@test_case(points=1, hidden=True)
def test_q3_no_skip(env):
    from autograder.checks import run_one
    from autograder.checks.base import specs
    from autograder.notebook import artefacts_for
    spec = next((s for s in specs() if s.id == 'q3.no_skip'))
    result = run_one(spec, artefacts_for('q3', env))
    assert result.passed, result.message + ' Piste : ' + result.hint

@test_case(points=2, hidden=True)
def test_q3_accuracy(env):
    from autograder.checks import run_one
    from autograder.checks.base import specs
    from autograder.notebook import artefacts_for
    spec = next((s for s in specs() if s.id == 'q3.accuracy'))
    result = run_one(spec, artefacts_for('q3', env))
    assert result.passed, result.message + ' Piste : ' + result.hint

