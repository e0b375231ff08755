from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=1, hidden=False)
def test_q1_shape(env):
    from autograder.notebook import assert_check
    assert_check('q1.shape', env)

@test_case(points=1, hidden=False)
def test_q1_order(env):
    from autograder.notebook import assert_check
    assert_check('q1.order', env)

@test_case(points=1, hidden=False)
def test_q1_kwargs(env):
    from autograder.notebook import assert_check
    assert_check('q1.kwargs', env)

@test_case(points=1, hidden=True)
def test_q1_sequence(env):
    from autograder.checks import run_one
    from autograder.checks.base import specs
    from autograder.notebook import artefacts_for
    spec = next((s for s in specs() if s.id == 'q1.sequence'))
    result = run_one(spec, artefacts_for('q1', env))
    assert result.passed, result.message + ' Piste : ' + result.hint

@test_case(points=1, hidden=True)
def test_q1_shortcut(env):
    from autograder.checks import run_one
    from autograder.checks.base import specs
    from autograder.notebook import artefacts_for
    spec = next((s for s in specs() if s.id == 'q1.shortcut'))
    result = run_one(spec, artefacts_for('q1', env))
    assert result.passed, result.message + ' Piste : ' + result.hint

@test_case(points=2, hidden=True)
def test_q1_numeric(env):
    from autograder.checks import run_one
    from autograder.checks.base import specs
    from autograder.notebook import artefacts_for
    spec = next((s for s in specs() if s.id == 'q1.numeric'))
    result = run_one(spec, artefacts_for('q1', env))
    assert result.passed, result.message + ' Piste : ' + result.hint

