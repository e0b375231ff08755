from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=1, hidden=False)
def test_q2_output(env):
    from autograder.notebook import assert_check
    assert_check('q2.output', env)

@test_case(points=1, hidden=False)
def test_q2_params(env):
    from autograder.notebook import assert_check
    assert_check('q2.params', env)

@test_case(points=2, hidden=True)
def test_q2_blocks(env):
    from autograder.checks import run_one
    from autograder.checks.base import specs
    from autograder.notebook import artefacts_for
    spec = next((s for s in specs() if s.id == 'q2.blocks'))
    result = run_one(spec, artefacts_for('q2', env))
    assert result.passed, result.message + ' Piste : ' + result.hint

@test_case(points=2, hidden=True)
def test_q2_accuracy(env):
    from autograder.checks import run_one
    from autograder.checks.base import specs
    from autograder.notebook import artefacts_for
    spec = next((s for s in specs() if s.id == 'q2.accuracy'))
    result = run_one(spec, artefacts_for('q2', env))
    assert result.passed, result.message + ' Piste : ' + result.hint

